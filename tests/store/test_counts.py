"""Remembered counts: a count again only counts the new events, and stays exact through
appends, deletes, reused ids and deletes made by another process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile
from sfmonitor.store.schema import migrate, version_of
from tests.helpers.events import change_event, event, push_topic


def fill(store: CaptureStore, pid: int, start: int, n: int) -> None:
    store.ingest(
        pid,
        [
            event(push_topic(i + 1, f"Acme {i}") if i % 2 else change_event(i + 1, amount=i))
            for i in range(start, start + n)
        ],
    )


def plain_count(folder: Path, query_sql: str) -> int:
    """The truth, from a connection of its own."""
    conn = sqlite3.connect(folder / "capture.db")
    try:
        return int(conn.execute(query_sql).fetchone()[0])
    finally:
        conn.close()


def traced(store: CaptureStore) -> list[str]:
    """The statements this thread's reader connection runs from now on (parameters
    filled in)."""
    statements: list[str] = []
    store._reader_conn().set_trace_callback(statements.append)
    return statements


def test_counting_again_counts_only_the_new_events(
    store: CaptureStore, profile: Profile, data_folder: Path
) -> None:
    assert profile.id is not None
    fill(store, profile.id, 0, 300)
    query = EventQuery(profile.id, text="acme")
    assert store.count(query) == 150
    top = store.max_event_id()
    fill(store, profile.id, 300, 41)
    statements = traced(store)
    assert store.count(query) == 150 + 20
    counts = [s for s in statements if s.startswith("SELECT count(*)")]
    assert len(counts) == 1 and f"e.id > {top}" in counts[0]  # the tail only
    assert store.count(query) == plain_count(
        data_folder, "SELECT count(*) FROM events WHERE raw LIKE '%acme%'"
    )
    # a snapshot up to an older id is not served from a count that went further
    assert store.count(EventQuery(profile.id, text="acme", upto_id=top)) == 150


def test_counts_stay_exact_through_deletes_and_reused_ids(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    fill(store, profile.id, 0, 200)
    everything, pushes = EventQuery(profile.id), EventQuery(profile.id, text="acme")
    assert (store.count(everything), store.count(pushes)) == (200, 100)
    # the newest rows go, then new events take their ids again
    store.remove_subscription(profile.id, "/topic/Accounts", delete_events=True)
    assert (store.count(everything), store.count(pushes)) == (100, 0)
    fill(store, profile.id, 1000, 10)
    assert (store.count(everything), store.count(pushes)) == (110, 5)
    profile.keep_events = 7
    store.apply_retention(profile)
    assert (store.count(everything), store.count(pushes)) == (7, 4)
    assert store.count_and_fetch(pushes, limit=2)[0] == 4


def test_a_reader_notices_deletes_made_by_the_writing_process(
    store: CaptureStore, profile: Profile, data_folder: Path
) -> None:
    assert profile.id is not None
    fill(store, profile.id, 0, 10_000)
    with CaptureStore.open(data_folder, read_only=True) as reader:
        query = EventQuery(profile.id, text="acme")
        assert reader.count(query) == 5000
        deep = [r.id for r in reader.fetch(query, offset=4500, limit=5)]  # remembers anchors
        profile.keep_events = 6000
        store.apply_retention(profile)  # the first 4000 events go
        assert reader.count(query) == 3000
        assert reader.count_and_fetch(query)[0] == 3000
        assert [r.id for r in reader.fetch(query, offset=2500, limit=5)] == deep


def test_a_version_2_database_gets_the_deletion_count(data_folder: Path) -> None:
    data_folder.mkdir()
    path = data_folder / "capture.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=2)
    conn.close()
    with CaptureStore.open(data_folder) as store:
        profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        fill(store, profile.id, 0, 10)
        profile.keep_events = 4
        store.apply_retention(profile)
        assert store.count(EventQuery(profile.id)) == 4
    check = sqlite3.connect(path)
    assert check.execute("SELECT deletions FROM store_meta").fetchone()[0] == 6
    check.close()
    backup = sqlite3.connect(f"{path}.v2.bak")
    assert version_of(backup) == 2
    backup.close()


def test_a_read_only_look_at_an_older_file_counts_without_remembering(
    data_folder: Path,
) -> None:
    data_folder.mkdir()
    path = data_folder / "capture.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=2)  # as an older sfmonitor, still writing, left it
    conn.execute(
        "INSERT INTO profiles (name, environment, login_url, auth_kind, created_at) "
        "VALUES ('Old', 'production', 'https://login.salesforce.com', 'password', 1)"
    )
    insert = (
        "INSERT INTO events (profile_id, channel, kind, replay_id, created_at, received_at, "
        "summary, raw) VALUES (1, '/topic/A', 'pushtopic', ?, 1, 2, 's', '{}')"
    )
    conn.executemany(insert, [(i,) for i in range(10)])
    with CaptureStore.open(data_folder, read_only=True) as reader:
        assert reader.count(EventQuery(1)) == 10
        conn.execute("DELETE FROM events WHERE replay_id < 4")
        conn.executemany(insert, [(i,) for i in range(20, 22)])
        assert reader.count(EventQuery(1)) == 8
    conn.close()
    assert version_of(sqlite3.connect(path)) == 2  # a read-only look migrates nothing
