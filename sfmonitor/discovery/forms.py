"""A publish form from a platform event's describe: which fields a person fills in, of
what type, which are required, and what the defaults are; then their text turned into the
JSON Salesforce accepts, with clear errors and nothing silently dropped.

Required, as Salesforce decides it: createable, not nillable and not defaulted on create.
A default is the field's ``defaultValue`` (checkboxes) or the literal of its
``defaultValueFormula``; a formula that is not a literal is shown as such and left to
Salesforce.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist", "reference"})
NUMBER_TYPES = frozenset({"double", "int", "currency", "percent", "long"})
KNOWN_TYPES = TEXT_TYPES | NUMBER_TYPES | {"boolean", "date", "datetime"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str  # Salesforce's describe type: string, double, boolean, date, datetime, ...
    required: bool
    default: Any = None  # the value Salesforce fills in when the field is left out
    default_formula: str | None = None  # shown when it is not a plain literal
    length: int = 0
    precision: int = 0
    scale: int = 0
    picklist: tuple[str, ...] = ()
    help: str = ""

    def coerce(self, text: str) -> Any:
        """The JSON value for what a person typed; ValueError saying why not."""
        value = text.strip()
        if self.type in NUMBER_TYPES:
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{self.label}: {text!r} is not a number") from None
            if self.type == "int" or (self.scale == 0 and self.type != "percent"):
                if not number.is_integer():
                    raise ValueError(f"{self.label}: a whole number is needed")
                return int(number)
            return number
        if self.type == "boolean":
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{self.label}: true or false")
            return value.lower() in ("true", "1", "yes")
        if self.type == "date":
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                raise ValueError(f"{self.label}: a date is YYYY-MM-DD") from None
        if self.type == "datetime":
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{self.label}: a time is YYYY-MM-DDTHH:MM:SSZ") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return (
                parsed.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
        if self.length and len(text) > self.length:
            raise ValueError(f"{self.label}: at most {self.length} characters")
        if self.picklist and text not in self.picklist:
            raise ValueError(f"{self.label}: one of {', '.join(self.picklist)}")
        return text


@dataclass(frozen=True)
class EventForm:
    """The fields of one platform event a publisher fills in."""

    name: str  # Order_Placed__e
    label: str
    fields: tuple[FieldSpec, ...]

    @property
    def channel(self) -> str:
        return f"/event/{self.name}"

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name.lower() == name.lower()), None)

    def template(self) -> dict[str, Any]:
        """A starting payload for JSON editing: defaults filled in, others null."""
        return {f.name: f.default for f in self.fields}

    def payload(self, values: Mapping[str, str]) -> dict[str, Any]:
        """The JSON body from the form's text (empty text = left out, so that Salesforce
        applies its default). ValueError listing every problem at once."""
        problems, out = [], {}
        for name in values:
            if self.field(name) is None:
                problems.append(f"{name}: {self.name} has no such field")
        for f in self.fields:
            text = values.get(f.name, "")
            if not text.strip():
                if f.required:
                    problems.append(f"{f.label}: required")
                continue
            try:
                out[f.name] = f.coerce(text)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return out

    def check(self, payload: Mapping[str, Any]) -> list[str]:
        """What is wrong with a JSON payload (power users' editing), before sending it."""
        problems = [f"{n}: {self.name} has no such field" for n in payload if self.field(n) is None]
        given = {k.lower() for k, v in payload.items() if v not in (None, "")}
        problems += [
            f"{f.label}: required"
            for f in self.fields
            if f.required and f.name.lower() not in given
        ]
        return problems


def _default(field: Mapping[str, Any]) -> tuple[Any, str | None]:
    if field.get("type") == "boolean":
        return bool(field.get("defaultValue")), None
    formula = field.get("defaultValueFormula")
    if not isinstance(formula, str) or not formula.strip():
        value = field.get("defaultValue")
        return (value if isinstance(value, str | int | float) else None), None
    text = formula.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1], None
    if text.lower() in ("true", "false"):
        return text.lower() == "true", None
    try:
        return (float(text) if "." in text else int(text)), None
    except ValueError:
        return None, text  # a formula Salesforce evaluates (TODAY(), $User.Id, ...)


def form_from_describe(describe: Mapping[str, Any]) -> EventForm:
    """The form for a platform event's describe: the fields a publisher may set."""
    specs = []
    for f in describe.get("fields") or ():
        if not isinstance(f, dict) or not f.get("createable"):
            continue  # ReplayId, CreatedDate, EventUuid...: set by Salesforce
        default, formula = _default(f)
        required = not f.get("nillable", True) and not f.get("defaultedOnCreate", False)
        kind = str(f.get("type") or "string")
        specs.append(
            FieldSpec(
                name=str(f.get("name")),
                label=str(f.get("label") or f.get("name")),
                type=kind if kind in KNOWN_TYPES else "string",
                required=required,
                default=default,
                default_formula=formula,
                length=int(f.get("length") or 0),
                precision=int(f.get("precision") or 0),
                scale=int(f.get("scale") or 0),
                picklist=tuple(
                    str(p.get("value"))
                    for p in f.get("picklistValues") or ()
                    if isinstance(p, dict) and p.get("active", True)
                ),
                help=str(f.get("inlineHelpText") or ""),
            )
        )
    name = str(describe.get("name") or "")
    return EventForm(name, str(describe.get("label") or name), tuple(specs))
