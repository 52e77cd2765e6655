"""Describe resources: ``GET …/sobjects/`` (describeGlobal) and ``…/sobjects/<X>/describe``,
with the keys Salesforce answers (reference auth-and-discovery §3.1). Discovery reads event
objects (``__e``, standard events), change events (``associateEntityType: ChangeEvent``)
and monitoring streams from describeGlobal; the publish form is built from a describe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .avro_schemas import ENTITY_FIELDS
from .catalog import EventDef, FieldDef, label_of
from .channels import MONITORING_STREAMS
from .config import User
from .ids import KEY_PREFIXES
from .queries import OBJECTS

if TYPE_CHECKING:
    from .org import Org

STANDARD_OBJECTS = (
    "Account", "Contact", "Opportunity", "Lead", "Case", "User", "Organization", "PushTopic",
    "StreamingChannel",
)  # fmt: skip
_SOAP = {
    "string": "xsd:string", "textarea": "xsd:string", "picklist": "xsd:string",
    "double": "xsd:double", "int": "xsd:int", "boolean": "xsd:boolean", "date": "xsd:date",
    "datetime": "xsd:dateTime", "reference": "tns:ID", "id": "tns:ID",
    "complexvalue": "urn:JsonNode",
}  # fmt: skip
_FLAGS = (
    "activateable", "createable", "customSetting", "deepCloneable", "deletable",
    "deprecatedAndHidden", "feedEnabled", "hasSubtypes", "isInterface", "isSubtype",
    "layoutable", "mergeable", "mruEnabled", "queryable", "replicateable", "retrieveable",
    "searchable", "triggerable", "undeletable", "updateable",
)  # fmt: skip


def _entry(name: str, label: str, version: str, **flags: Any) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{name}"
    entry: dict[str, Any] = {key: False for key in _FLAGS}
    entry.update(
        associateEntityType=None,
        associateParentEntity=None,
        custom=False,
        keyPrefix=None,
        label=label,
        labelPlural=label + "s",
        name=name,
        urls={"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    )
    entry.update(flags)
    return entry


def _visible(user: User, name: str) -> bool:
    return name.lower() not in {h.lower() for h in user.hidden_objects}


def global_entries(org: Org, user: User, version: str) -> list[dict[str, Any]]:
    """The sobjects of describeGlobal that the user may see."""
    out = []
    for name in STANDARD_OBJECTS:
        out.append(
            _entry(name, label_of(name), version, keyPrefix=KEY_PREFIXES.get(name),
                   queryable=True, retrieveable=True, createable=True, updateable=True,
                   deletable=True, searchable=True)
        )  # fmt: skip
    cat = org.catalog
    for entity in sorted(org.cdc_entities | cat.cdc_capable):
        event = org.cdc_channel_of(entity).rsplit("/", 1)[-1]
        label = cat.cdc_labels.get(entity) or label_of(entity)
        out.append(
            _entry(event, f"{label} Change Event", version, associateEntityType="ChangeEvent",
                   associateParentEntity=entity, custom=entity.endswith("__c"), triggerable=True)
        )  # fmt: skip
    for name in sorted(org.platform_events):
        event_def = event_definition(org, name)
        out.append(
            _entry(name, event_def.label, version, custom=not event_def.standard,
                   keyPrefix=event_def.key_prefix, createable=not event_def.standard,
                   triggerable=True)
        )  # fmt: skip
    for name in sorted(MONITORING_STREAMS):
        out.append(_entry(name, label_of(name), version, keyPrefix="0Yw"))
    return [e for e in out if _visible(user, e["name"])]


def describe_global(org: Org, user: User, version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": global_entries(org, user, version),
    }


def event_definition(org: Org, name: str) -> EventDef:
    """The catalog's definition, or one made from the fields the org has seen (an event
    added by publishing to it)."""
    found = org.catalog.events.get(name)
    return found if found is not None else EventDef(name, label_of(name))


def _field(f: FieldDef, createable: bool) -> dict[str, Any]:
    checkbox = f.type == "boolean"
    default_formula = None if checkbox else f.default_formula
    defaulted = checkbox or default_formula is not None
    numeric = f.type in ("double", "int")
    return {
        "name": f.name,
        "label": f.label or label_of(f.name),
        "type": f.type,
        "soapType": _SOAP.get(f.type, "xsd:string"),
        "custom": f.name.endswith("__c"),
        "createable": createable,
        "updateable": False,
        "nillable": not (checkbox or f.required),
        "defaultedOnCreate": defaulted,
        "defaultValue": (f.default_formula or "false").lower() == "true" if checkbox else None,
        "defaultValueFormula": default_formula,
        "length": 0 if numeric or checkbox or f.type in ("date", "datetime") else f.length,
        "byteLength": f.length * 3 if f.type in ("string", "textarea") else 0,
        "precision": f.precision if numeric else 0,
        "scale": f.scale if numeric else 0,
        "digits": 0,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in f.picklist
        ],
        "inlineHelpText": f.help or None,
        "referenceTo": [],
        "relationshipName": None,
        "calculated": False,
        "unique": False,
        "externalId": False,
        "nameField": False,
    }


_EVENT_SYSTEM = (
    FieldDef("ReplayId", "string", "Replay ID"),
    FieldDef("CreatedDate", "datetime", "Created Date"),
    FieldDef("CreatedById", "reference", "Created By ID"),
    FieldDef("EventUuid", "string", "Event UUID", length=36),
)
_TYPES = {"double": "double", "int": "int", "string": "string", "datetime": "datetime"}


def describe(org: Org, user: User, name: str, version: str) -> dict[str, Any] | None:
    """``…/sobjects/<name>/describe``, or None for an object the user cannot see."""
    entry = next((e for e in global_entries(org, user, version) if e["name"] == name), None)
    if entry is None:
        return None
    fields: list[dict[str, Any]]
    if name in org.platform_events:
        event_def = event_definition(org, name)
        fields = [_field(f, False) for f in _EVENT_SYSTEM]
        fields += [_field(f, not event_def.standard) for f in event_def.fields]
    elif entry["associateEntityType"] == "ChangeEvent":
        entity = entry["associateParentEntity"]
        fields = [_field(FieldDef("ChangeEventHeader", "complexvalue"), False)]
        for fname, kind in ENTITY_FIELDS.get(entity, (("Name", "string"),)):
            fields.append(_field(FieldDef(fname, _TYPES.get(kind, "string")), False))
    elif name.lower() in OBJECTS:
        fields = [_field(FieldDef(f, "string"), True) for f in OBJECTS[name.lower()].fields]
    else:
        fields = [_field(FieldDef(f, "string"), False) for f in ("Id", "Name")]
    return {**entry, "fields": fields, "childRelationships": [], "recordTypeInfos": []}
