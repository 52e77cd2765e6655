"""Every captured event of a record, and what a change event changed.

A record's id is in CDC ``ChangeEventHeader.recordIds`` (several when Salesforce merged
identical changes) and in PushTopic ``sobject.Id``. Finding them by a scan reads every
message of the profile; ``INDEX_SQL`` (a migration for the lead to apply) keeps a small
table of (profile, record id, time, event id) filled by triggers as events are stored and
deleted, so a record's history is an index seek. ``history`` uses the table when it is
there and scans otherwise (same answers).

``field_changes`` says, for a change event, which fields changed and to what, with the
value each had before where an earlier captured event of the same record shows it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .captures import CaptureStore
from .models import EventRow
from .queries import _ROW_COLUMNS

KINDS = ("change_event", "pushtopic")
_KINDS_SQL = "('change_event', 'pushtopic')"
_IDS = "$.data.payload.ChangeEventHeader.recordIds"
_SOBJECT_ID = "$.data.sobject.Id"
INDEX_SQL = f"""
CREATE TABLE IF NOT EXISTS event_records (
    profile_id INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (profile_id, record_id, created_at, event_id)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS event_records_added AFTER INSERT ON events
WHEN NEW.kind IN {_KINDS_SQL} AND json_valid(NEW.raw)
BEGIN
    INSERT OR IGNORE INTO event_records
        SELECT NEW.profile_id, value, NEW.created_at, NEW.id FROM json_each(NEW.raw, '{_IDS}')
        WHERE type = 'text'
        UNION ALL
        SELECT NEW.profile_id, json_extract(NEW.raw, '{_SOBJECT_ID}'), NEW.created_at, NEW.id
        WHERE json_type(NEW.raw, '{_SOBJECT_ID}') = 'text';
END;
CREATE TRIGGER IF NOT EXISTS event_records_deleted AFTER DELETE ON events
WHEN OLD.kind IN {_KINDS_SQL} AND json_valid(OLD.raw)
BEGIN
    DELETE FROM event_records WHERE profile_id = OLD.profile_id
        AND record_id IN (SELECT value FROM json_each(OLD.raw, '{_IDS}') WHERE type = 'text'
                          UNION SELECT json_extract(OLD.raw, '{_SOBJECT_ID}'))
        AND created_at = OLD.created_at AND event_id = OLD.id;
END;
INSERT OR IGNORE INTO event_records
    SELECT e.profile_id, j.value, e.created_at, e.id FROM events e, json_each(e.raw, '{_IDS}') j
    WHERE e.kind = 'change_event' AND json_valid(e.raw) AND j.type = 'text';
INSERT OR IGNORE INTO event_records
    SELECT profile_id, json_extract(raw, '{_SOBJECT_ID}'), created_at, id FROM events
    WHERE kind = 'pushtopic' AND json_valid(raw) AND json_type(raw, '{_SOBJECT_ID}') = 'text';
"""
MAX_HISTORY = 5000  # events listed for one record (the newest)
LOOK_BACK = 2000  # earlier events read for previous values, at most


def add_index(conn: sqlite3.Connection) -> None:
    """Create the table and triggers and fill the table (in one transaction)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(INDEX_SQL):
            conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    parts, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            parts.append(buffer.strip())
            buffer = ""
    return parts


def indexed(store: CaptureStore) -> bool:
    rows = store._read("SELECT 1 FROM sqlite_schema WHERE name = 'event_records'")
    return bool(rows)


def record_ids(message: Any) -> list[str]:
    """The record ids a message is about (CDC recordIds, PushTopic sobject.Id)."""
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        return []
    payload = data.get("payload")
    header = payload.get("ChangeEventHeader") if isinstance(payload, dict) else None
    ids = header.get("recordIds") if isinstance(header, dict) else None
    found = ids if isinstance(ids, list) else [ids]
    sobject = data.get("sobject")
    found.append(sobject.get("Id") if isinstance(sobject, dict) else None)
    return list(dict.fromkeys(i for i in found if isinstance(i, str) and i))


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
    wanted = sorted(set(ids))
    if not wanted:
        return []
    listed = orjson.dumps(wanted).decode()
    if indexed(store):
        source = (
            "e.id IN (SELECT event_id FROM event_records WHERE profile_id = ? "
            "AND record_id IN (SELECT value FROM json_each(?)))"
        )
        params: list[object] = [profile_id, listed]
    else:  # a scan; LIKE skips most messages before any JSON is read
        likes = " OR ".join("e.raw LIKE ?" for _ in wanted)
        source = (
            f"e.profile_id = ? AND e.kind IN {_KINDS_SQL} AND ({likes}) AND json_valid(e.raw) "
            f"AND (EXISTS (SELECT 1 FROM json_each(e.raw, '{_IDS}') j WHERE j.value IN "
            f"(SELECT value FROM json_each(?))) OR json_extract(e.raw, '{_SOBJECT_ID}') IN "
            "(SELECT value FROM json_each(?)))"
        )
        params = [profile_id, *(f"%{i}%" for i in wanted), listed, listed]
    if before is not None:
        source += " AND (e.created_at < ? OR (e.created_at = ? AND e.id < ?))"
        params += [before[0], before[0], before[1]]
    columns = _ROW_COLUMNS + (", e.raw" if with_raw else "")
    rows = store._read(
        f"SELECT {columns} FROM events e WHERE {source} "
        "ORDER BY e.created_at DESC, e.id DESC LIMIT ?",
        [*params, limit],
    )
    out = [EventRow(*r) for r in rows]
    out.reverse()
    return out


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
    from the newest of ``earlier`` (time order, with raw) that shows the field. A
    PushTopic event does not list its changes: a field counts as changed when it differs
    from the previous value (or none is known)."""
    fields, header = _fields(orjson.loads(event.raw or "null"))
    listed = _names(header, fields) if header else []
    names = list(dict.fromkeys([*listed, *fields]))
    previous: dict[str, tuple[Any, int]] = {}
    pending = set(names)
    for row in reversed(earlier):
        if not pending:
            break
        older, _header = _fields(orjson.loads(row.raw or "null"))
        for name in list(pending):
            found, value = _lookup(older, name)
            if found:
                previous[name] = (value, row.id)
                pending.discard(name)
    out = []
    for name in names:
        value = _lookup(fields, name)[1]
        before, source = previous.get(name, (None, None))
        changed = name in listed if header else (source is None or before != value)
        out.append(FieldChange(name, value, changed, before, source))
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
