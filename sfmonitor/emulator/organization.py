"""``SELECT … FROM Organization``: what the org is (name, sandbox or not, edition).

Clients decide "production" from ``IsSandbox`` (and, like the Salesforce CLI, "scratch org"
from ``IsSandbox`` plus ``TrialExpirationDate``), so these answer from ``EmulatorConfig``.
"""

from __future__ import annotations

import re
from typing import Any

from .org import Org

_SELECT = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+Organization\b", re.I | re.S)


def organization_record(org: Org) -> dict[str, Any]:
    config = org.config
    return {
        "Id": org.org_id,
        "Name": config.org_name,
        "IsSandbox": config.org_is_sandbox,
        "OrganizationType": config.org_type,
        "TrialExpirationDate": config.org_trial_expiration,
        "InstanceName": "EMU1",
        "NamespacePrefix": None,
    }


def query_organization(org: Org, soql: str) -> tuple[Any, int]:
    """(body, HTTP status) of the REST query: one record with the selected fields."""
    m = _SELECT.match(soql)
    if not m:
        return [{"errorCode": "MALFORMED_QUERY", "message": "unexpected token"}], 400
    record = organization_record(org)
    by_lower = {k.lower(): k for k in record}
    out: dict[str, Any] = {
        "attributes": {
            "type": "Organization",
            "url": f"/services/data/v62.0/sobjects/Organization/{org.org_id}",
        }
    }
    for name in (f.strip() for f in m["fields"].split(",")):
        key = by_lower.get(name.lower())
        if key is None:
            message = f"No such column '{name}' on entity 'Organization'."
            return [{"errorCode": "INVALID_FIELD", "message": message}], 400
        out[key] = record[key]
    return {"totalSize": 1, "done": True, "records": [out]}, 200
