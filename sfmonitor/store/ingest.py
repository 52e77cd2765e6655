"""Storing a batch of events: the events and each channel's newest replay id in ONE
transaction, re-deliveries dropped, and two things a server can get wrong noticed.

An event is known by its channel, replay id and creation time (the unique index of
schema v4), or by its EventUuid. A re-delivery matches on all of these and is dropped.

- **Replay ids that start over** (a sandbox refresh, a server restarted from scratch):
  new events come under ids already stored for other events. They differ in creation
  time (or EventUuid, or content), so they are kept; a notice row says it happened.
- **A replay id no event can have** (0 or less, not an integer, or beyond SQLite's
  64-bit INTEGER: one in [2^63, 2^64) used to fail the whole batch, every time): the
  event is stored without a replay id (its message keeps it), never becomes the
  channel's resume point, and a notice row says so once per channel.

Looking for a collision costs one index probe per event whose replay id is not above the
highest one stored on its channel: none while events arrive in order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from sfmonitor.timefmt import iso_from_ms

from .models import COMETD, PUBSUB, Gap, now_ms
from .records import (
    GAP_KIND,
    INSERT,
    ODD_REPLAY_ID,
    RESTARTED,
    EventRecord,
    PubSubWire,
    gap_summary,
)

REPLAY_ID_MAX = 2**63 - 1


def usable(replay_id: Any) -> bool:
    """Can this be an event's replay id (a resume point)? Salesforce's are Java longs
    that start at 1."""
    return type(replay_id) is int and 0 < replay_id <= REPLAY_ID_MAX


def shown(value: Any) -> str:
    """A server's value, short enough for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


Key = tuple[int, str]  # profile id, channel
Position = tuple[int, str, bytes]  # profile id, channel, Pub/Sub replay id bytes

# a channel's newest stored event is where it resumes (its transport's position only)
_SAVE_STATE = (
    "INSERT INTO replay_state (profile_id, channel, replay_id, created_at, updated_at, "
    "replay_bytes, transport) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (profile_id, channel) "
    "DO UPDATE SET replay_id = excluded.replay_id, created_at = excluded.created_at, "
    "live_since = NULL, updated_at = excluded.updated_at, replay_bytes = excluded.replay_bytes, "
    "transport = excluded.transport"
)
# a Pub/Sub keepalive's latest_replay_id: the resume point moves with no event
_SAVE_POSITION = (
    f"INSERT INTO replay_state (profile_id, channel, replay_id, replay_bytes, transport, "
    f"updated_at) VALUES (?, ?, ?, ?, '{PUBSUB}', ?) ON CONFLICT (profile_id, channel) DO UPDATE "
    "SET replay_id = excluded.replay_id, replay_bytes = excluded.replay_bytes, "
    "transport = excluded.transport, live_since = NULL, updated_at = excluded.updated_at"
)


def _transport_of(r: EventRecord) -> str:
    return COMETD if r.replay_bytes is None else PUBSUB


def position_value(replay_bytes: bytes) -> int | None:
    """The ``replay_id`` column of a Pub/Sub position (see ``PubSubWire.replay_value``)."""
    return PubSubWire(replay_bytes, "", b"").replay_value


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int
    notices: tuple[Gap, ...] = ()  # recorded with the events (ids restarted, odd ids)


def insert_gap(conn: sqlite3.Connection, profile_id: int, gap: Gap) -> Gap:
    """A gap (or notice) in ``gaps``, and a marked row (kind ``gap``) among the events at
    the same moment, so that the table and exports show it."""
    message = {
        "channel": gap.channel,
        "gap": {
            "storedReplayId": gap.stored_replay_id,
            "action": gap.action,
            "serverText": gap.server_text,
        },
    }
    conn.execute(
        INSERT,
        (
            profile_id,
            gap.channel,
            GAP_KIND,
            None,
            None,
            gap.at,
            gap.at,
            "GAP",
            gap_summary(message["gap"]),
            orjson.dumps(message).decode(),
            None,
            None,
            None,
        ),
    )
    cur = conn.execute(
        "INSERT INTO gaps (profile_id, channel, at, stored_replay_id, action, server_text) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (profile_id, gap.channel, gap.at, gap.stored_replay_id, gap.action, gap.server_text),
    )
    return replace(gap, id=cur.lastrowid)


class Ingestor:
    """What one store remembers between batches: each channel's highest stored replay
    id, the last replay id at which ids were found to start over, and the channels
    already told about an odd replay id. Used under the store's write lock."""

    def __init__(self) -> None:
        # too high after a delete is harmless (a probe more), too low cannot happen:
        # every event is stored through here or into a profile of its own (an import)
        self._highest: dict[Key, int | None] = {}
        self._restarted_at: dict[Key, int | None] = {}
        self._told_odd: set[Key] = set()

    def ingest(
        self,
        conn: sqlite3.Connection,
        records: Sequence[EventRecord],
        positions: Sequence[Position] = (),
    ) -> tuple[IngestResult, Callable[[], None]]:
        """Store ``records`` inside the caller's transaction, then ``positions`` (Pub/Sub
        resume points a keepalive moved with no event, newer than every record of their
        channel here). Returns the result and what to remember once committed."""
        total = len(records)
        records, odd = self._in_range(records)
        records, clashes = self._clashes(conn, records)
        before = conn.total_changes
        conn.executemany(INSERT, records)
        stored = conn.total_changes - before
        newest: dict[Key, EventRecord] = {}
        for r in records:
            if r.replay_id is not None or r.replay_bytes is not None:
                newest[(r.profile_id, r.channel)] = r
        now = now_ms()
        conn.executemany(
            _SAVE_STATE,
            [
                (pid, ch, r.replay_id, r.created_at, now, r.replay_bytes, _transport_of(r))
                for (pid, ch), r in newest.items()
            ],
        )
        conn.executemany(
            _SAVE_POSITION,
            [(pid, ch, position_value(raw), raw, now) for pid, ch, raw in positions],
        )
        notices = [insert_gap(conn, key[0], gap) for key, gap in odd + clashes]
        highest = {key: r.replay_id for key, r in newest.items() if r.replay_id is not None}

        def remember() -> None:
            for key, rid in highest.items():
                known = self._highest.get(key)
                self._highest[key] = rid if known is None else max(known, rid)
            self._told_odd.update(key for key, _ in odd)

        result = IngestResult(stored, total - stored, tuple(notices))
        return result, remember

    def _in_range(
        self, records: Sequence[EventRecord]
    ) -> tuple[Sequence[EventRecord], list[tuple[Key, Gap]]]:
        """Rows whose replay id no event can have lose it (their message keeps it)."""
        odd: list[tuple[Key, Gap]] = []
        if all(r.replay_id is None or usable(r.replay_id) for r in records):
            return records, odd
        out = []
        for r in records:
            rid = r.replay_id
            if rid is not None and not usable(rid):
                key = (r.profile_id, r.channel)
                if key not in self._told_odd and all(k != key for k, _ in odd):
                    text = (
                        f"replay id {shown(rid)} on {r.channel} is not one an event can have "
                        f"(1 to {REPLAY_ID_MAX}): such events are stored without a replay id "
                        "(their message keeps it) and the channel resumes from its last "
                        "valid one"
                    )
                    odd.append((key, Gap(r.channel, now_ms(), None, ODD_REPLAY_ID, text)))
                r = r._replace(replay_id=None)
            out.append(r)
        return out, odd

    def _clashes(
        self, conn: sqlite3.Connection, records: Sequence[EventRecord]
    ) -> tuple[Sequence[EventRecord], list[tuple[Key, Gap]]]:
        """Rows whose replay id is already stored for a different event (ids started
        over): kept, with one notice where the ids went back. A row identical to the
        stored one (a re-delivery of an event with no creation time of its own, whose
        receive time stands in for it) is dropped here."""
        keep: list[EventRecord] | None = None
        notices: list[tuple[Key, Gap]] = []
        for i, r in enumerate(records):
            verdict = "new"
            if r.replay_id is not None:
                key = (r.profile_id, r.channel)
                highest = self._highest_of(conn, key)
                if highest is not None and r.replay_id <= highest:
                    verdict = self._compare(conn, r)
            if verdict == "same":
                if keep is None:
                    keep = list(records[:i])
                continue
            if verdict == "other":
                gap = self._restart_notice(conn, key, r)
                if gap is not None:
                    notices.append((key, gap))
            if keep is not None:
                keep.append(r)
        return (records if keep is None else keep), notices

    def _highest_of(self, conn: sqlite3.Connection, key: Key) -> int | None:
        if key not in self._highest:
            row = conn.execute(
                "SELECT max(replay_id) FROM events WHERE profile_id = ? AND channel = ? "
                "AND replay_id IS NOT NULL",
                key,
            ).fetchone()
            self._highest[key] = row[0]
        return self._highest[key]

    @staticmethod
    def _compare(conn: sqlite3.Connection, r: EventRecord) -> str:
        """``new`` (nothing stored under this replay id), ``same`` (a re-delivery), or
        ``other`` (a different event under the same replay id)."""
        rows = conn.execute(
            "SELECT created_at, event_uuid, raw FROM events "
            "WHERE profile_id = ? AND channel = ? AND replay_id = ?",
            (r.profile_id, r.channel, r.replay_id),
        ).fetchall()
        if not rows:
            return "new"
        for created, uuid, raw in rows:
            if uuid is not None and r.event_uuid is not None:
                if uuid == r.event_uuid:
                    return "same"
            elif created == r.created_at or raw == r.raw:
                return "same"
        return "other"

    def _restart_notice(self, conn: sqlite3.Connection, key: Key, r: EventRecord) -> Gap | None:
        """A notice when the ids went back to an id below the last clash seen on the
        channel (a new start), none while a started-over series goes on."""
        if key not in self._restarted_at:
            row = conn.execute(
                "SELECT stored_replay_id FROM gaps WHERE profile_id = ? AND channel = ? "
                "AND action = ? ORDER BY id DESC LIMIT 1",
                (*key, RESTARTED),
            ).fetchone()
            self._restarted_at[key] = row[0] if row else None
        last = self._restarted_at[key]
        self._restarted_at[key] = r.replay_id if last is None else max(last, r.replay_id)
        if last is not None and r.replay_id > last:
            return None
        stored = conn.execute(
            "SELECT created_at FROM events WHERE profile_id = ? AND channel = ? AND replay_id = ? "
            "ORDER BY id LIMIT 1",
            (r.profile_id, r.channel, r.replay_id),
        ).fetchone()[0]
        text = (
            f"replay ids restarted on {r.channel}: replay id {r.replay_id} was an event of "
            f"{iso_from_ms(stored)} and now is one of {iso_from_ms(r.created_at)} (a sandbox "
            "refresh or a server that started over?); the new events are kept beside the old"
        )
        return Gap(r.channel, now_ms(), r.replay_id, RESTARTED, text)
