"""The small SOQL subset a PushTopic query may use: SELECT fields FROM object [WHERE a AND b].

Enough for Salesforce's own PushTopic examples; anything else is refused with the error
Salesforce gives for a query it cannot use (MALFORMED_QUERY).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>[A-Za-z][\w]*)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(
    r"^\s*(?P<field>[A-Za-z][\w.]*)\s*(?P<op>=|!=|<>|<=|>=|<|>)\s*(?P<value>.+?)\s*$", re.DOTALL
)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


class QueryError(ValueError):
    """A PushTopic query the emulator (and Salesforce) would not accept."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, record: dict[str, Any]) -> bool:
        actual = get_field(record, self.field)
        if self.value is None or actual is None:
            return (self.op == "=") == (actual is self.value)
        try:
            return _OPS[self.op](actual, self.value)
        except TypeError:
            return False


@dataclass(frozen=True)
class TopicQuery:
    fields: tuple[str, ...]
    sobject: str
    conditions: tuple[Condition, ...]

    def matches(self, record: dict[str, Any]) -> bool:
        return all(c.holds(record) for c in self.conditions)

    @property
    def where_fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.conditions)


def get_field(record: dict[str, Any], name: str) -> Any:
    """Field lookup, case-insensitive as in SOQL."""
    if name in record:
        return record[name]
    lower = name.lower()
    for key, value in record.items():
        if key.lower() == lower:
            return value
    return None


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("\\'", "'")
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        raise QueryError(f"unexpected token: '{text}'") from None


def parse_topic_query(query: str) -> TopicQuery:
    """Parse a PushTopic query, or raise QueryError with Salesforce-like wording."""
    m = _QUERY.match(query or "")
    if not m:
        raise QueryError("unexpected token: the query must be SELECT <fields> FROM <object>")
    fields = tuple(f.strip() for f in m["fields"].split(","))
    if not all(re.fullmatch(r"[A-Za-z][\w.]*", f) for f in fields):
        raise QueryError("Aggregate queries and sub-queries are not supported in a PushTopic")
    conditions: list[Condition] = []
    if m["where"]:
        if re.search(r"\bOR\b|\bNOT\b|\(", m["where"], re.IGNORECASE):
            raise QueryError("only AND of simple comparisons is supported in this emulator")
        for part in _AND.split(m["where"]):
            c = _COND.match(part)
            if not c:
                raise QueryError(f"unexpected token: '{part.strip()}'")
            conditions.append(Condition(c["field"], c["op"], _literal(c["value"])))
    if not any(f.lower() == "id" for f in fields):
        fields = ("Id", *fields)
    return TopicQuery(fields, m["obj"], tuple(conditions))
