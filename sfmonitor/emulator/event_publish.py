"""A platform event published by REST, checked as Salesforce checks it: required fields
(``REQUIRED_FIELD_MISSING``), fields the event does not have (``INVALID_FIELD``), values
that do not deserialize into the field's type (``JSON_PARSER_ERROR``), and the defaults of
fields left out applied (a checkbox is false, a default formula's literal is used).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .catalog import EventDef, FieldDef

Error = dict[str, Any]


def literal_default(f: FieldDef) -> Any:
    """The value a default formula gives when it is a literal; None otherwise."""
    if f.type == "boolean":
        return (f.default_formula or "false").strip().lower() == "true"
    text = (f.default_formula or "").strip()
    if len(text) >= 2 and text[0] == text[-1] in "'\"":
        return text[1:-1]
    if f.type in ("double", "int"):
        try:
            return float(text) if f.type == "double" else int(text)
        except ValueError:
            return None
    return None


def _parses(f: FieldDef, value: Any) -> bool:
    if value is None:
        return True
    kind = f.type
    if kind in ("double", "int"):
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return kind == "double" or float(value).is_integer()
        try:
            float(str(value))
        except ValueError:
            return False
        return True
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false")
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            return False
        try:
            if kind == "date":
                dt.date.fromisoformat(value)
            else:
                dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return not isinstance(value, dict | list)


def _soap_name(kind: str) -> str:
    return {"double": "double", "int": "int", "boolean": "boolean", "date": "date"}.get(
        kind, "datetime" if kind == "datetime" else "String"
    )


def check(event: EventDef, body: dict[str, Any]) -> tuple[dict[str, Any], list[Error]]:
    """(the fields to publish, defaults applied) or Salesforce's errors."""
    for name, value in body.items():
        f = event.field(name)
        if f is None:
            message = f"No such column '{name}' on sobject of type {event.name}"
            return {}, [{"message": message, "errorCode": "INVALID_FIELD", "fields": []}]
        if not _parses(f, value):
            token = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT"
            message = (
                f"Cannot deserialize instance of {_soap_name(f.type)} from {token} value "
                f"{value} or request may be missing a required field"
            )
            return {}, [{"message": message, "errorCode": "JSON_PARSER_ERROR", "fields": []}]
    given = {k.lower() for k, v in body.items() if v not in (None, "")}
    missing = [f.name for f in event.fields if f.required and f.name.lower() not in given]
    if missing:
        message = f"Required fields are missing: [{', '.join(missing)}]"
        return {}, [{"message": message, "errorCode": "REQUIRED_FIELD_MISSING", "fields": missing}]
    out = dict(body)
    present = {k.lower() for k in body}
    for f in event.fields:
        if f.name.lower() not in present and (f.type == "boolean" or f.default_formula):
            default = literal_default(f)
            if default is not None:
                out[f.name] = default
    return out, []
