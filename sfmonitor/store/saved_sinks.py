"""Sinks saved on a profile, each sink's cursor, and how far behind the store a sink is.

The store keeps a sink as text: its ``sink_id`` (the destination, which names its cursor
and its keyring entry) and its URL without a password; parsing and forwarding are
``sfmonitor.sinks``'s. A URL that still holds a password is refused here, whatever the
caller did. ``CaptureStore`` inherits these.

A cursor is the ``events.id`` of the newest event a sink acknowledged. Retention may only
delete events at or below the lowest cursor of the sinks that count (``retention_floor``):
the profile's saved sinks, and the sinks a running capture was given besides.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .models import now_ms


@dataclass(frozen=True)
class SavedSink:
    sink_id: str  # the destination (``SinkSpec.sink_id``)
    url: str  # without any password


@dataclass(frozen=True)
class SinkCursor:
    sink_id: str
    last_event_id: int  # events.id of the newest acknowledged event
    acked: int  # events acknowledged so far
    updated_at: int  # ms: when the cursor last moved


@dataclass(frozen=True)
class SinkBacklog:
    """Stored events after a cursor: how many, and when the oldest of them was received."""

    events: int
    oldest_received_ms: int | None


@dataclass(frozen=True)
class RetentionResult:
    """What a retention pass did, and what the sinks made it keep."""

    deleted: int
    held: int = 0  # events past the limits kept because a sink has not acknowledged them
    held_by: tuple[str, ...] = ()  # those sinks


def password_in_url(url: str) -> bool:
    """Whether ``url`` holds a password (``user:password@`` or ``?password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ":" in url.partition("@")[0] or "password=" in url.lower()
    userinfo, at, _ = parts.netloc.rpartition("@")
    keys = (k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return bool(at and ":" in userinfo) or "password" in keys


class SinkRecords:
    """Saved sinks and cursors, read and written through the store's connections."""

    if TYPE_CHECKING:

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

    def save_sink(self, profile_id: int, sink_id: str, url: str, only_new: bool = False) -> None:
        """Save (or update the URL of) a sink of the profile. ``only_new``: a sink without
        a cursor yet starts after the newest stored event instead of with every one."""
        if password_in_url(url):
            raise ValueError("a saved sink URL must not hold a password (the keyring keeps it)")
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO profile_sinks (profile_id, sink_id, url, position, created_at) "
                "VALUES (?, ?, ?, (SELECT count(*) FROM profile_sinks WHERE profile_id = ?), ?) "
                "ON CONFLICT (profile_id, sink_id) DO UPDATE SET url = excluded.url",
                (profile_id, sink_id, url, profile_id, now_ms()),
            )
            if only_new:
                conn.execute(
                    "INSERT OR IGNORE INTO sink_cursors (profile_id, sink_id, last_event_id, "
                    "acked, updated_at) VALUES (?, ?, (SELECT coalesce(max(id), 0) FROM events "
                    "WHERE profile_id = ?), 0, ?)",
                    (profile_id, sink_id, profile_id, now_ms()),
                )

    def saved_sinks(self, profile_id: int) -> list[SavedSink]:
        rows = self._read(
            "SELECT sink_id, url FROM profile_sinks WHERE profile_id = ? ORDER BY position, rowid",
            (profile_id,),
        )
        return [SavedSink(*r) for r in rows]

    def remove_sink(self, profile_id: int, sink_id: str) -> bool:
        """Forget a sink: saved or not, its cursor too (it no longer holds retention back).
        False if the profile had neither."""
        with self._transaction() as conn:
            saved = conn.execute(
                "DELETE FROM profile_sinks WHERE profile_id = ? AND sink_id = ?",
                (profile_id, sink_id),
            ).rowcount
            cursor = conn.execute(
                "DELETE FROM sink_cursors WHERE profile_id = ? AND sink_id = ?",
                (profile_id, sink_id),
            ).rowcount
        return bool(saved or cursor)

    def sink_cursors(self, profile_id: int) -> dict[str, SinkCursor]:
        """Every cursor of the profile: saved sinks and sinks given to one capture."""
        rows = self._read(
            "SELECT sink_id, last_event_id, acked, updated_at FROM sink_cursors "
            "WHERE profile_id = ? ORDER BY sink_id",
            (profile_id,),
        )
        return {r[0]: SinkCursor(*r) for r in rows}

    def sink_backlog(self, profile_id: int, cursor: int) -> SinkBacklog:
        count, oldest = self._read(
            "SELECT count(*), (SELECT received_at FROM events WHERE profile_id = ?1 AND id > ?2 "
            "ORDER BY id LIMIT 1) FROM events WHERE profile_id = ?1 AND id > ?2",
            (profile_id, cursor),
        )[0]
        return SinkBacklog(int(count), oldest)

    def retention_floor(
        self, profile_id: int, sink_ids: Iterable[str] = ()
    ) -> tuple[int | None, dict[str, int]]:
        """The newest event id retention may delete up to (None: no sink, no limit), and
        the cursor of each sink that counts: the saved sinks and ``sink_ids`` (a sink
        without a cursor yet holds every event: 0)."""
        ids = {s.sink_id for s in self.saved_sinks(profile_id)} | set(sink_ids)
        if not ids:
            return None, {}
        known = {k: c.last_event_id for k, c in self.sink_cursors(profile_id).items()}
        cursors = {sink_id: known.get(sink_id, 0) for sink_id in sorted(ids)}
        return min(cursors.values()), cursors
