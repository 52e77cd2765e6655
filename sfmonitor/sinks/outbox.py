"""The store as an outbox: what a forwarder reads, and where it keeps its cursor.

``OutboxReader`` and ``CursorStore`` are the two small interfaces a ``Forwarder`` needs;
both are blocking (the forwarder calls them on its own thread). ``SqliteOutbox`` reads a
capture store's ``events`` table through its own read-only connection, so forwarding never
takes the store's write lock; ``SqliteCursorStore`` keeps cursors in the capture file's
``sink_cursors`` table (schema v7), or in a file of its own (``create=True``).

A cursor is the ``events.id`` of the newest event a sink has acknowledged: rows are
forwarded in id order (the order they were stored in), and the cursor only moves forward.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sfmonitor.store.export import RECORD_SQL
from sfmonitor.store.models import now_ms
from sfmonitor.store.schema import SINK_CURSORS_DDL


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One stored event (or gap row), with its export record built by the store's SQL."""

    id: int  # events.id: the store order
    channel: str
    replay_id: int | None
    event_uuid: str | None
    kind: str
    created_at: int  # ms
    received_at: int  # ms
    raw: str  # the message exactly as received (compact JSON)
    record: str  # {"channel","replayId","kind","createdDate","receivedAt","event"}


@dataclass(frozen=True, slots=True)
class Backlog:
    """Events stored after a cursor: how many, and when the oldest of them was received."""

    events: int
    oldest_received_ms: int | None


class OutboxReader(Protocol):
    def read_after(self, cursor: int, limit: int) -> list[OutboxRecord]:
        """Up to ``limit`` events stored after ``cursor``, in store order."""
        ...

    def backlog(self, cursor: int) -> Backlog: ...

    def newest_id(self) -> int:
        """The id of the newest stored event (0 when none)."""
        ...


class CursorStore(Protocol):
    def get(self, sink_id: str) -> int | None:
        """The sink's cursor, None if it never had one."""
        ...

    def set(self, sink_id: str, cursor: int, acked: int) -> None:
        """Move the cursor to ``cursor`` after ``acked`` more events were acknowledged."""
        ...

    def all(self) -> dict[str, int]:
        """Every sink's cursor (for the retention floor)."""
        ...


def sink_cursors_ddl(foreign_key: bool = True) -> str:
    """The ``sink_cursors`` table, as the capture store's migration makes it
    (``sfmonitor.store.schema.SINK_CURSORS_DDL``).

    One row per (profile, sink); ``sink_id`` is the sink's destination as
    ``SinkSpec.sink_id`` writes it (never with a secret). ``last_event_id`` only grows.
    ``foreign_key`` ties the rows to ``profiles`` (off for a file of its own).
    """
    if foreign_key:
        return SINK_CURSORS_DDL
    return SINK_CURSORS_DDL.replace(" REFERENCES profiles(id) ON DELETE CASCADE", "")


_READ = (
    "SELECT e.id, e.channel, e.replay_id, e.event_uuid, e.kind, e.created_at, e.received_at, "
    f"e.raw, {RECORD_SQL} FROM events e WHERE e.profile_id = ? AND e.id > ? "
    "ORDER BY e.id LIMIT ?"
)


def _connect_ro(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


class SqliteOutbox:
    """``OutboxReader`` over a capture store's file, read-only (one connection, used by one
    thread at a time; the forwarder runs it on its own worker)."""

    def __init__(self, path: Path, profile_id: int) -> None:
        self.path = path
        self.profile_id = profile_id
        self._conn = _connect_ro(path)
        self._lock = threading.Lock()

    def read_after(self, cursor: int, limit: int) -> list[OutboxRecord]:
        with self._lock:
            rows = self._conn.execute(_READ, (self.profile_id, cursor, limit)).fetchall()
        return [OutboxRecord(*row) for row in rows]

    def backlog(self, cursor: int) -> Backlog:
        with self._lock:
            count, oldest = self._conn.execute(
                "SELECT count(*), (SELECT received_at FROM events WHERE profile_id = ?1 "
                "AND id > ?2 ORDER BY id LIMIT 1) FROM events WHERE profile_id = ?1 AND id > ?2",
                (self.profile_id, cursor),
            ).fetchone()
        return Backlog(int(count), oldest)

    def newest_id(self) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT coalesce(max(id), 0) FROM events WHERE profile_id = ?",
                (self.profile_id,),
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class SqliteCursorStore:
    """``CursorStore`` on a ``sink_cursors`` table of a SQLite file.

    ``create`` makes the table when it is missing (a file of its own; in the capture
    store a migration does it). Each ``set`` is one short transaction.
    """

    def __init__(self, path: Path, profile_id: int, create: bool = False) -> None:
        self.path = path
        self.profile_id = profile_id
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        # a cursor lost in a power cut is only an earlier cursor (events sent again): no
        # fsync per batch
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if create:
            exists = self._conn.execute(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'sink_cursors'"
            ).fetchone()[0]
            if not exists:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute(sink_cursors_ddl(foreign_key=False))

    def get(self, sink_id: str) -> int | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT last_event_id FROM sink_cursors WHERE profile_id = ? AND sink_id = ?",
                (self.profile_id, sink_id),
            ).fetchone()
        return None if row is None else int(row[0])

    def set(self, sink_id: str, cursor: int, acked: int) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO sink_cursors (profile_id, sink_id, last_event_id, acked, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (profile_id, sink_id) DO UPDATE SET "
                "last_event_id = max(last_event_id, excluded.last_event_id), "
                "acked = acked + excluded.acked, updated_at = excluded.updated_at",
                (self.profile_id, sink_id, cursor, acked, now_ms()),
            )

    def all(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT sink_id, last_event_id FROM sink_cursors WHERE profile_id = ?",
                (self.profile_id,),
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def retention_floor(cursors: CursorStore, sink_ids: Iterable[str]) -> int | None:
    """The newest event id retention may delete up to: the lowest cursor over the profile's
    sinks (a sink without a cursor yet holds everything: 0). None when there is no sink,
    so retention is free."""
    ids = list(sink_ids)
    if not ids:
        return None
    known = cursors.all()
    return min(known.get(sink_id, 0) for sink_id in ids)
