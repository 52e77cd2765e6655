"""The store as an outbox: reads in store order per profile, the export record, the lag,
the ``sink_cursors`` table as a migration of the capture store, the retention floor, and
where a new sink starts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from sfmonitor.sinks import (
    Forwarder,
    NdjsonSink,
    NdjsonSpec,
    SqliteCursorStore,
    SqliteOutbox,
    retention_floor,
    sink_cursors_ddl,
)
from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile
from sfmonitor.store.export import event_record_bytes
from sfmonitor.store.schema import write_transaction
from tests.helpers.events import T0, event, platform_event, push_topic
from tests.helpers.waiting import wait_until
from tests.sinks.helpers import Filled, forward_all


def two_profiles(folder: Path) -> tuple[int, int]:
    """Events of two profiles stored interleaved."""
    with CaptureStore.open(folder) as store:
        a = store.save_profile(Profile("A", Environment.SANDBOX, "https://test.salesforce.com"))
        b = store.save_profile(Profile("B", Environment.SANDBOX, "https://test.salesforce.com"))
        assert a.id is not None and b.id is not None
        for i in range(1, 6):
            store.ingest(a.id, [event(push_topic(i, ms=T0 + i))])
            store.ingest(b.id, [event(platform_event(100 + i, f"uuid-{i}"))])
        return a.id, b.id


def test_reads_follow_store_order_per_profile(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    a, b = two_profiles(folder)
    outbox = SqliteOutbox(folder / "capture.db", a)
    try:
        first = outbox.read_after(0, 3)
        rest = outbox.read_after(first[-1].id, 100)
        assert [r.replay_id for r in first + rest] == [1, 2, 3, 4, 5]
        assert all(r.channel == "/topic/Accounts" for r in first + rest)
        assert outbox.read_after(rest[-1].id, 100) == []
        assert outbox.newest_id() == rest[-1].id
        backlog = outbox.backlog(first[-1].id)
        assert backlog.events == 2 and backlog.oldest_received_ms == rest[0].received_at
        assert outbox.backlog(rest[-1].id).events == 0
        assert outbox.backlog(rest[-1].id).oldest_received_ms is None
        # the record is the export record, byte for byte
        message = push_topic(1, ms=T0 + 1)
        assert first[0].record.encode() == event_record_bytes(event(message))
    finally:
        outbox.close()
    assert SqliteOutbox(folder / "capture.db", b).read_after(0, 100)[0].event_uuid == "uuid-1"


def test_the_cursor_table_migrates_into_the_capture_store(tmp_path: Path) -> None:
    """The lead's migration step: the DDL in a write transaction on the capture file;
    cursors then live there and go with their profile."""
    folder = tmp_path / "data"
    a, b = two_profiles(folder)
    conn = sqlite3.connect(folder / "capture.db", isolation_level=None)
    with write_transaction(conn):
        for statement in sink_cursors_ddl().split(";"):
            if statement.strip():
                conn.execute(statement)
    conn.close()
    cursors = SqliteCursorStore(folder / "capture.db", a)
    cursors.set("kafka://h:9092/t", 3, 3)
    cursors.set("kafka://h:9092/t", 2, 0)  # never backwards
    cursors.set("ndjson:///x", 5, 5)
    assert cursors.get("kafka://h:9092/t") == 3 and cursors.get("nope") is None
    assert cursors.all() == {"kafka://h:9092/t": 3, "ndjson:///x": 5}
    assert SqliteCursorStore(folder / "capture.db", b).all() == {}
    cursors.close()
    with CaptureStore.open(folder) as store:
        store.delete_profile(a)
    check = sqlite3.connect(folder / "capture.db")
    assert check.execute("SELECT count(*) FROM sink_cursors").fetchone()[0] == 0
    check.close()


def test_retention_floor(tmp_path: Path) -> None:
    cursors = SqliteCursorStore(tmp_path / "c.db", 1, create=True)
    assert retention_floor(cursors, []) is None  # no sink: retention is free
    assert retention_floor(cursors, ["a"]) == 0  # a sink that has sent nothing holds all
    cursors.set("a", 40, 40)
    cursors.set("b", 25, 25)
    assert retention_floor(cursors, ["a", "b"]) == 25
    assert retention_floor(cursors, ["a"]) == 40
    cursors.close()


@pytest.mark.asyncio
async def test_a_new_sink_starts_with_all_or_only_new_events(
    filled: Filled, tmp_path: Path
) -> None:
    db = filled.folder / "capture.db"
    all_out, new_out = tmp_path / "all.ndjson", tmp_path / "new.ndjson"
    cursors = SqliteCursorStore(tmp_path / "c.db", filled.profile_id, create=True)
    everything = Forwarder(
        NdjsonSink(NdjsonSpec(all_out)), SqliteOutbox(db, filled.profile_id), cursors, "all"
    )
    await forward_all(everything, filled.count)
    only_new = Forwarder(
        NdjsonSink(NdjsonSpec(new_out)),
        SqliteOutbox(db, filled.profile_id),
        cursors,
        "new",
        start="new",
    )
    task = asyncio.ensure_future(only_new.run())
    await wait_until(lambda: only_new.lag.state == "forwarding", 30, "the sink to open")
    with CaptureStore.open(filled.folder) as store:
        store.ingest(filled.profile_id, [event(push_topic(10**9))])
    only_new.nudge()
    await wait_until(lambda: only_new.lag.forwarded == 1, 30, "the new event")
    only_new.stop()
    await task
    assert len(all_out.read_bytes().splitlines()) == filled.count
    assert [b'"replayId":1000000000' in line for line in new_out.read_bytes().splitlines()] == [
        True
    ]
    with CaptureStore.open(filled.folder, read_only=True) as store:
        newest = store.fetch(EventQuery(filled.profile_id), limit=1, descending=True)[0].id
    assert cursors.all() == {"all": newest - 1, "new": newest}
