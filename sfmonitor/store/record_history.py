"""Every captured event of a record, and what a change event changed.

A record's id is in CDC ``ChangeEventHeader.recordIds`` (several when Salesforce merged
identical changes) and in PushTopic ``sobject.Id``. ``history`` asks the store for the
events whose text holds the id, as a text filter would: where the search index (the
trigram index over every message, kept in the background) has the events, it gives the
few candidates in milliseconds; the rest are scanned. Each candidate is then checked
exactly with SQLite's JSON functions (an Opportunity naming the Account in a lookup
field is not in the Account's history).

No index of its own: a table of record ids filled by triggers on ``events`` was tried and
cut ingest to 0.29 of its rate (four JSON parses per CDC or PushTopic event inside the
write transaction); the search index costs ingest nothing and answers in ~10 ms over a
million events (benchmarks/timeline.py).

``field_changes`` says, for a change event, which fields changed and to what, with the
value each had before where an earlier captured event of the same record shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .captures import CaptureStore
from .errors import FilterError
from .filters import Compiled
from .models import EventQuery, EventRow
from .queries import _ROW_COLUMNS

KINDS = frozenset({"change_event", "pushtopic"})
_RAW = "CASE WHEN json_valid(e.raw) THEN e.raw END"  # a message too deep for SQLite: none
_EXACT = (
    f"(EXISTS (SELECT 1 FROM json_each({_RAW}, '$.data.payload.ChangeEventHeader.recordIds') "
    f"WHERE value = ?) OR json_extract({_RAW}, '$.data.sobject.Id') = ?)"
)
MAX_HISTORY = 5000  # events listed for one record (the newest)
LOOK_BACK = 2000  # earlier events read for previous values, at most


def record_ids(message: Any) -> list[str]:
    """The record ids a message is about (CDC recordIds, PushTopic sobject.Id)."""
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        return []
    payload = data.get("payload")
    header = payload.get("ChangeEventHeader") if isinstance(payload, dict) else None
    ids = header.get("recordIds") if isinstance(header, dict) else None
    found = list(ids) if isinstance(ids, list) else [ids]
    sobject = data.get("sobject")
    found.append(sobject.get("Id") if isinstance(sobject, dict) else None)
    return list(dict.fromkeys(i for i in found if isinstance(i, str) and i))


def _phrase(text: str) -> str:
    """``text`` as one quoted phrase of the filter language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def history(
    store: CaptureStore,
    profile_id: int,
    ids: Iterable[str],
    before: tuple[int, int] | None = None,
    limit: int = MAX_HISTORY,
    with_raw: bool = False,
) -> list[EventRow]:
    """The newest ``limit`` events of the records ``ids``, in time order (ties by
    arrival); with ``before`` (created_at, id), only events earlier than that one."""
    found: dict[int, EventRow] = {}
    for record in sorted(set(ids)):
        for row in _of_record(store, profile_id, record, before, limit, with_raw):
            found[row.id] = row
    rows = sorted(found.values(), key=lambda r: (r.created_at, r.id))
    return rows[-limit:] if limit > 0 else []


def _of_record(
    store: CaptureStore,
    profile_id: int,
    record: str,
    before: tuple[int, int] | None,
    limit: int,
    with_raw: bool,
) -> list[EventRow]:
    query = EventQuery(profile_id, text=_phrase(record), kinds=KINDS)
    try:
        where = store._where(query)  # the search index's candidates, when it has them
    except FilterError:
        return []  # not an id a message can hold as text (e.g. a lone surrogate)
    sql, params = [*where.sql, _EXACT], [*where.params, record, record]
    if before is not None:
        sql.append("(e.created_at < ? OR (e.created_at = ? AND e.id < ?))")
        params += [before[0], before[0], before[1]]
    clause, values = store._clause(Compiled(sql, params, where.match))
    columns = _ROW_COLUMNS + (", e.raw" if with_raw else "")
    rows = store._read(
        f"SELECT {columns} FROM events e{clause} ORDER BY e.created_at DESC, e.id DESC LIMIT ?",
        [*values, limit],
    )
    return [EventRow(*r) for r in rows]


# --- what changed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field of a change: its new value and, where known, the one before."""

    field: str
    value: Any
    changed: bool  # the event says (or shows) that this field changed
    previous: Any = None
    previous_event_id: int | None = None  # the event the previous value is from (None: unknown)

    @property
    def previous_known(self) -> bool:
        return self.previous_event_id is not None


def _lookup(fields: dict[str, Any], name: str) -> tuple[bool, Any]:
    """A field by name; "Name.LastName" reads inside compound fields."""
    value: Any = fields
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _fields(message: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record fields of a message (CDC payload without its header, or PushTopic
    sobject without Id), and the CDC header ({} for PushTopic)."""
    data = message.get("data") if isinstance(message, dict) else None
    data = data if isinstance(data, dict) else {}
    payload = data.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("ChangeEventHeader"), dict):
        header = payload["ChangeEventHeader"]
        nulled = header.get("nulledFields") if isinstance(header.get("nulledFields"), list) else []
        fields = {k: v for k, v in payload.items() if k != "ChangeEventHeader"}
        for name in nulled:
            if isinstance(name, str) and "." not in name:
                fields.setdefault(name, None)
        return fields, header
    sobject = data.get("sobject")
    return (
        {k: v for k, v in sobject.items() if k != "Id"} if isinstance(sobject, dict) else {}
    ), {}


def _names(header: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    """The fields an event says changed: CDC changedFields and nulledFields (CREATE and
    UNDELETE: every field it carries)."""
    change = str(header.get("changeType", "")).upper().removeprefix("GAP_")
    if change in ("CREATE", "UNDELETE"):
        return list(fields)
    names: list[str] = []
    for key in ("changedFields", "nulledFields", "diffFields"):
        listed = header.get(key)
        names += [n for n in listed if isinstance(n, str)] if isinstance(listed, list) else []
    return list(dict.fromkeys(names))


def field_changes(event: EventRow, earlier: Sequence[EventRow]) -> list[FieldChange]:
    """The fields of ``event`` (with raw), changed ones first, each with its previous value
    from the newest of ``earlier`` (time order, with raw) that shows the field.

    One change often reaches the capture more than once: on an entity channel and on
    ``/data/ChangeEvents``, as a change event and as PushTopic events. So a field a change
    event lists as changed takes the newest earlier value that differs from its new one
    (an equal one is the same change seen elsewhere). A PushTopic event does not list its
    changes: its fields are compared with earlier events of its own channel, and count as
    changed where they differ (or nothing earlier is known)."""
    fields, header = _fields(orjson.loads(event.raw or "null"))
    listed = set(_names(header, fields)) if header else set()
    names = list(dict.fromkeys([*_names(header, fields), *fields] if header else fields))
    if not header:
        earlier = [row for row in earlier if row.channel == event.channel]
    new = {name: _lookup(fields, name)[1] for name in names}
    previous: dict[str, tuple[Any, int]] = {}
    pending = set(names)
    for row in reversed(earlier):
        if not pending:
            break
        older, _header = _fields(orjson.loads(row.raw or "null"))
        for name in list(pending):
            found, value = _lookup(older, name)
            if found and not (name in listed and value == new[name]):
                previous[name] = (value, row.id)
                pending.discard(name)
    out = []
    for name in names:
        before, source = previous.get(name, (None, None))
        changed = name in listed if header else (source is None or before != new[name])
        out.append(FieldChange(name, new[name], changed, before, source))
    return sorted(out, key=lambda c: not c.changed)  # stable: the event's own order


def changes_of(store: CaptureStore, event_id: int) -> list[FieldChange] | None:
    """``field_changes`` of a stored event (None: it is not a CDC or PushTopic event or is
    gone), reading back as far as ``LOOK_BACK`` earlier events of its records."""
    row = store.event(event_id)
    if row is None or row.kind not in KINDS or row.raw is None:
        return None
    ids = record_ids(orjson.loads(row.raw))
    earlier = history(
        store, row.profile_id, ids, (row.created_at, row.id), LOOK_BACK, with_raw=True
    )
    return field_changes(row, earlier)
