"""Who and where a login is: the user (``/services/oauth2/userinfo``) and the org
(``SELECT … FROM Organization`` through the REST query).

"Production" is decided from the org itself (``Organization.IsSandbox``), never from the
login URL: a sandbox may be reached through My Domain, a production org through a custom
domain. Like the Salesforce CLI, a sandbox with a trial expiration date is a scratch org.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..streaming.errors import TransportError
from .http import OAuthHttp

log = logging.getLogger(__name__)

ORG_QUERY = "SELECT Id, Name, IsSandbox, OrganizationType, TrialExpirationDate FROM Organization"
API_VERSION = "62.0"


@dataclass(frozen=True)
class Identity:
    """The user and the org behind an access token. Org fields are None when the org
    could not be asked (a user without API access to Organization)."""

    user_id: str
    username: str
    display_name: str
    org_id: str
    org_name: str | None = None
    is_sandbox: bool | None = None
    organization_type: str | None = None  # "Developer Edition", "Enterprise Edition", …
    trial_expiration: str | None = None

    @property
    def kind(self) -> str:
        """``production``, ``sandbox``, ``scratch`` or ``unknown``."""
        if self.is_sandbox is None:
            return "unknown"
        if not self.is_sandbox:
            return "production"
        return "scratch" if self.trial_expiration else "sandbox"

    @property
    def is_production(self) -> bool:
        """Salesforce's own sense: any org that is not a sandbox (Developer Edition too)."""
        return self.is_sandbox is False


async def identify(
    instance_url: str,
    access_token: str,
    http: OAuthHttp | None = None,
    api_version: str = API_VERSION,
) -> Identity:
    """Ask the org who the token's user is and what the org is.

    A refused token raises ``AuthenticationError``; a refused Organization query only
    leaves the org fields empty (the login itself worked).
    """
    http = http or OAuthHttp()
    base = instance_url.rstrip("/")
    query_url = f"{base}/services/data/v{api_version}/query?q={quote(ORG_QUERY)}"
    user, org = await asyncio.gather(
        http.get_json(f"{base}/services/oauth2/userinfo", access_token),
        _org_record(http, query_url, access_token),
    )
    if not isinstance(user, dict):
        raise TransportError(f"{base}: userinfo is not a JSON object")
    return Identity(
        user_id=str(user.get("user_id", "")),
        username=str(user.get("preferred_username", "")),
        display_name=str(user.get("name", "")),
        org_id=str(user.get("organization_id", "")),
        org_name=_text(org.get("Name")),
        is_sandbox=org["IsSandbox"] if isinstance(org.get("IsSandbox"), bool) else None,
        organization_type=_text(org.get("OrganizationType")),
        trial_expiration=_text(org.get("TrialExpirationDate")),
    )


async def _org_record(http: OAuthHttp, url: str, token: str) -> dict[str, Any]:
    try:
        data = await http.get_json(url, token)
    except TransportError as exc:
        log.warning("could not ask the org what it is: %s", exc)
        return {}
    records = data.get("records") if isinstance(data, dict) else None
    if isinstance(records, list) and records and isinstance(records[0], dict):
        return records[0]
    return {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
