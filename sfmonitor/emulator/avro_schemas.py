"""Avro schemas of the emulated org's events for the Pub/Sub API, and the encoding of each
retained event (its CometD message) into the schemaless Avro payload Salesforce sends.

Schemas follow what Salesforce serves (reference pubsub.md §1.5): a record in namespace
``com.sforce.eventbus`` named after the event; date-times are epoch-ms longs with a
``"doc": "<Field>:DateTime"``; other fields are nullable unions; a change event starts with
the ``ChangeEventHeader`` record (``changeType`` an enum) and carries every field of the
object, null when unchanged, with ``changedFields`` / ``nulledFields`` / ``diffFields`` as
bitmaps (upper-case hex, whole bytes, ``P-0x..`` for children of compound fields).

A schema grows a new version (a new schema id) when an event brings a field it lacks or a
value that does not fit its type; old ids stay resolvable, as Salesforce's do.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..timefmt import parse_time

NAMESPACE = "com.sforce.eventbus"
CHANGE_TYPES = (
    "CREATE", "UPDATE", "DELETE", "UNDELETE",
    "GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW",
)  # fmt: skip
ADDRESS = (
    ("Street", "string"), ("City", "string"), ("State", "string"), ("PostalCode", "string"),
    ("Country", "string"), ("StateCode", "string"), ("CountryCode", "string"),
    ("Latitude", "double"), ("Longitude", "double"), ("GeocodeAccuracy", "string"),
)  # fmt: skip
PERSON_NAME = (
    ("Salutation", "string"), ("FirstName", "string"), ("LastName", "string"),
    ("MiddleName", "string"), ("InformalName", "string"), ("Suffix", "string"),
)  # fmt: skip
AUDIT = (
    ("OwnerId", "string"), ("CreatedDate", "datetime"), ("CreatedById", "string"),
    ("LastModifiedDate", "datetime"), ("LastModifiedById", "string"),
)  # fmt: skip
# The standard fields of the objects the emulator has change events for. "address" and
# "name" are compound fields; their flat REST fields (BillingCity, FirstName) map into them.
ENTITY_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (
        ("Name", "string"), ("Type", "string"), ("ParentId", "string"),
        ("BillingAddress", "address"), ("ShippingAddress", "address"), ("Phone", "string"),
        ("Fax", "string"), ("AccountNumber", "string"), ("Website", "string"),
        ("Industry", "string"), ("AnnualRevenue", "double"), ("NumberOfEmployees", "int"),
        ("Description", "string"), *AUDIT,
    ),
    "Contact": (
        ("AccountId", "string"), ("Name", "name"), ("MailingAddress", "address"),
        ("Phone", "string"), ("MobilePhone", "string"), ("Email", "string"),
        ("Title", "string"), ("Department", "string"), ("Description", "string"), *AUDIT,
    ),
    "Opportunity": (
        ("AccountId", "string"), ("Name", "string"), ("Description", "string"),
        ("StageName", "string"), ("Amount", "double"), ("Probability", "double"),
        ("CloseDate", "string"), ("Type", "string"), ("LeadSource", "string"), *AUDIT,
    ),
    "Lead": (
        ("Name", "name"), ("Title", "string"), ("Company", "string"), ("Address", "address"),
        ("Phone", "string"), ("Email", "string"), ("Status", "string"),
        ("Industry", "string"), ("AnnualRevenue", "double"), *AUDIT,
    ),
    "Case": (
        ("AccountId", "string"), ("ContactId", "string"), ("Subject", "string"),
        ("Status", "string"), ("Priority", "string"), ("Origin", "string"),
        ("Type", "string"), ("Description", "string"), *AUDIT,
    ),
}  # fmt: skip
# The fields of the emulator's default platform events, so that a publisher can fetch the
# schema before anything was published on them.
EVENT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Low_Ink__e": (
        ("Printer_Model__c", "string"), ("Serial_Number__c", "string"),
        ("Ink_Percentage__c", "double"),
    ),
    "Order_Placed__e": (
        ("Order_Number__c", "string"), ("Amount__c", "double"), ("Customer__c", "string"),
    ),
    "Demo_Event__e": (("Message__c", "string"),),
}  # fmt: skip
_PRIMITIVE = {"string": "string", "double": "double", "int": "int", "boolean": "boolean"}


def schema_id_of(schema: dict[str, Any]) -> str:
    """A stable 22-character id from the schema's content, like ``K98aAtiNFBjA-PJlcvaQ2g``."""
    digest = hashlib.sha256(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def bitmap(positions: list[int]) -> str:
    """``0x..`` over bit positions: upper-case hex in whole bytes, as Salesforce writes it
    (``0x650004E0``, ``0x06``); some decoders read only upper-case digits."""
    value = 0
    for p in positions:
        value |= 1 << p
    text = format(value, "X")
    return "0x" + ("0" + text if len(text) % 2 else text)


def _kind_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "double"
    return "string"


def _fits(kind: str, value: Any) -> bool:
    if value is None:
        return True
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("double", "int"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "datetime":
        return isinstance(value, str | int) and not isinstance(value, bool)
    if kind in ("address", "name"):
        return isinstance(value, dict)
    return True  # strings take anything (stringified)


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = parse_time(value) if isinstance(value, str) else None
    return int(parsed.timestamp() * 1000) if parsed else None


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "string":
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    if kind == "double":
        return float(value)
    if kind == "int":
        return int(value)
    if kind == "datetime":
        return _epoch_ms(value)
    return value


def _children(kind: str) -> tuple[tuple[str, str], ...]:
    return ADDRESS if kind == "address" else PERSON_NAME if kind == "name" else ()


def _flat_prefix(name: str, kind: str) -> str | None:
    """How the REST API spells a compound's children: BillingAddress -> Billing(City)."""
    if kind == "name":
        return ""
    if kind == "address":
        return name[: -len("Address")] if name.endswith("Address") else name
    return None


@dataclass
class Layout:
    """The current field list of one event type, and every schema version it had."""

    name: str  # record name: AccountChangeEvent, Low_Ink__e, LoginEventStream
    change_event: bool
    fields: list[tuple[str, str]] = field(default_factory=list)
    schema_id: str = ""
    # flat REST names of compound children: BillingCity -> (BillingAddress, City)
    flat: dict[str, tuple[str, str]] = field(default_factory=dict)

    def avro(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        if self.change_event:
            header = {"name": "ChangeEventHeader", "type": _header_type()}
            out.append({**header, "doc": "Data:ChangeEventHeader"})
        defined: set[str] = set()  # a named type is written once, then referred to
        for name, kind in self.fields:
            out.append(_field(name, kind, not self.change_event, defined))
        return {"type": "record", "name": self.name, "namespace": NAMESPACE, "fields": out}

    def positions(self) -> dict[str, int]:
        offset = 1 if self.change_event else 0
        return {name: i + offset for i, (name, _) in enumerate(self.fields)}

    def index_flat(self) -> None:
        self.flat = {}
        for name, kind in self.fields:
            prefix = _flat_prefix(name, kind)
            if prefix is not None:
                for child, _ in _children(kind):
                    self.flat[prefix + child] = (name, child)


def _field(name: str, kind: str, required: bool, defined: set[str]) -> dict[str, Any]:
    if kind == "datetime":
        doc = f"{name}:DateTime"
        if required and name == "CreatedDate":  # a platform event's own, never null
            return {"name": name, "type": "long", "doc": doc}
        return {"name": name, "type": ["null", "long"], "doc": doc, "default": None}
    if required and name == "CreatedById":
        return {"name": name, "type": "string", "doc": "CreatedBy:EntityId"}
    if kind in ("address", "name"):
        type_name = "Address" if kind == "address" else "Switchable_PersonName"
        record: Any = f"{NAMESPACE}.{type_name}"
        if record not in defined:
            defined.add(record)
            record = {
                "type": "record",
                "name": type_name,
                "namespace": NAMESPACE,
                "fields": [_field(c, k, False, defined) for c, k in _children(kind)],
            }
        return {"name": name, "type": ["null", record], "default": None}
    return {"name": name, "type": ["null", _PRIMITIVE.get(kind, "string")], "default": None}


def _header_type() -> dict[str, Any]:
    strings = {"type": "array", "items": "string"}
    change_type = {
        "type": "enum",
        "name": "ChangeType",
        "namespace": NAMESPACE,
        "symbols": list(CHANGE_TYPES),
    }
    return {
        "type": "record",
        "name": "ChangeEventHeader",
        "namespace": NAMESPACE,
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": strings},
            {"name": "changeType", "type": change_type},
            {"name": "changeOrigin", "type": "string"},
            {"name": "transactionKey", "type": "string"},
            {"name": "sequenceNumber", "type": "int"},
            {"name": "commitTimestamp", "type": "long"},
            {"name": "commitNumber", "type": "long"},
            {"name": "commitUser", "type": "string"},
            {"name": "nulledFields", "type": strings},
            {"name": "diffFields", "type": strings},
            {"name": "changedFields", "type": strings},
        ],
    }
