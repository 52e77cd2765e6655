"""The store's side of the sinks: event ids that are never handed out twice (a cursor's
promise), sinks saved on a profile with their passwords in the keyring only, and
retention that waits for every sink that counts."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from sfmonitor.sinks import SqliteCursorStore, SqliteOutbox
from sfmonitor.store import CaptureStore, CredentialVault, Environment, EventQuery, Profile
from sfmonitor.store.schema import migrate
from tests.helpers.events import T0, event, platform_event, push_topic
from tests.helpers.keyring import MemoryKeyring

KAFKA = "kafka://127.0.0.1:9092/sf.{org}.{channel}"
PG = "postgresql://sfm@127.0.0.1:5432/postgres?table=sf_events"


def new_profile(store: CaptureStore, name: str = "P") -> int:
    profile = store.save_profile(Profile(name, Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    return profile.id


def test_ids_of_deleted_newest_events_are_never_handed_out_again(store: CaptureStore) -> None:
    """A sink that acknowledged the newest events, which are then deleted (their channel
    removed with its events), must still be sent the events stored next."""
    pid = new_profile(store)
    store.ingest(pid, [event(push_topic(i)) for i in range(1, 6)])
    store.ingest(pid, [event(platform_event(i, f"u{i}")) for i in range(1, 6)])
    cursors = SqliteCursorStore(store.path, pid)
    outbox = SqliteOutbox(store.path, pid)
    try:
        acked = outbox.newest_id()
        cursors.set(KAFKA, acked, 10)  # the sink has everything
        store.remove_subscription(pid, "/event/Order_Placed__e", delete_events=True)
        store.ingest(pid, [event(push_topic(i)) for i in range(6, 9)])
        fresh = outbox.read_after(cursors.get(KAFKA) or 0, 100)
        assert [r.replay_id for r in fresh] == [6, 7, 8]
        assert min(r.id for r in fresh) > acked
    finally:
        cursors.close()
        outbox.close()


def test_an_older_capture_file_is_migrated_with_its_ids_and_indexes(data_folder: Path) -> None:
    data_folder.mkdir()
    path = data_folder / "capture.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=4)
    conn.execute(
        "INSERT INTO profiles (name, environment, login_url, auth_kind, created_at) "
        "VALUES ('Old', 'production', 'https://login.salesforce.com', 'password', 1)"
    )
    for rid in (1, 2, 3):
        conn.execute(
            "INSERT INTO events (profile_id, channel, kind, replay_id, created_at, "
            "received_at, summary, raw) VALUES (1, '/topic/A', 'pushtopic', ?, 1, 2, 's', '{}')",
            (rid,),
        )
    conn.execute("DELETE FROM events WHERE replay_id = 2")
    conn.close()
    with CaptureStore.open(data_folder) as store:
        (profile,) = store.profiles()
        assert profile.id is not None
        assert [r.id for r in store.fetch(EventQuery(profile.id))] == [1, 3]
        store.remove_subscription(profile.id, "/topic/A", delete_events=True)
        store.ingest(profile.id, [event(push_topic(9))])
        assert [r.id for r in store.fetch(EventQuery(profile.id))] == [4]
        store.ingest(profile.id, [event(push_topic(9))])  # the unique key is still there
        assert store.count(EventQuery(profile.id)) == 1
    check = sqlite3.connect(path)
    names = {r[0] for r in check.execute("SELECT name FROM sqlite_schema")}
    assert {"events_replay", "events_uuid", "events_deleted", "sink_cursors"} <= names
    assert {"profile_sinks", "events_text_delete"} <= names
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_sinks_saved_on_a_profile_never_keep_a_password(store: CaptureStore) -> None:
    pid = new_profile(store)
    store.save_sink(pid, "kafka://127.0.0.1:9092/sf.{org}.{channel}", KAFKA)
    store.save_sink(pid, "postgresql://127.0.0.1:5432/postgres?table=sf_events", PG)
    store.save_sink(pid, "kafka://127.0.0.1:9092/sf.{org}.{channel}", KAFKA + "?acks=1")
    assert [(s.sink_id.split(":")[0], s.url) for s in store.saved_sinks(pid)] == [
        ("kafka", KAFKA + "?acks=1"),
        ("postgresql", PG),
    ]
    for url in (
        "postgresql://sfm:hunter22@127.0.0.1/db",
        "kafka://u:pw@h:9093/t",
        "postgresql://sfm@h/db?password=hunter22",
    ):
        with pytest.raises(ValueError, match="must not hold a password"):
            store.save_sink(pid, "x", url)
    assert store.remove_sink(pid, "kafka://127.0.0.1:9092/sf.{org}.{channel}")
    assert not store.remove_sink(pid, "kafka://127.0.0.1:9092/sf.{org}.{channel}")
    assert [s.url for s in store.saved_sinks(pid)] == [PG]
    store.delete_profile(pid)  # its sinks go with it
    assert store._read("SELECT count(*) FROM profile_sinks")[0][0] == 0


def test_a_sink_added_for_new_events_only_starts_after_the_newest(store: CaptureStore) -> None:
    pid = new_profile(store)
    store.ingest(pid, [event(push_topic(i)) for i in range(1, 4)])
    store.save_sink(pid, "new", "ndjson:///tmp/new.ndjson", only_new=True)
    store.save_sink(pid, "all", "ndjson:///tmp/all.ndjson")
    newest = store.fetch(EventQuery(pid), limit=1, descending=True)[0].id
    cursors = store.sink_cursors(pid)
    assert cursors["new"].last_event_id == newest and "all" not in cursors
    assert store.sink_backlog(pid, cursors["new"].last_event_id).events == 0
    backlog = store.sink_backlog(pid, 0)
    assert backlog.events == 3 and backlog.oldest_received_ms == T0 + 5


def test_sink_passwords_live_in_the_keyring_per_profile_and_sink(
    store: CaptureStore, mem_keyring: MemoryKeyring
) -> None:
    vault = CredentialVault(scope=store.vault_scope)
    vault.save_sink_secret(1, PG, "pg-Secret-1")
    vault.save_sink_secret(2, PG, "pg-Secret-2")
    assert vault.load_sink_secret(1, PG) == "pg-Secret-1"
    assert vault.load_sink_secret(2, PG) == "pg-Secret-2"
    assert vault.load_sink_secret(1, KAFKA) is None
    assert all(store.vault_scope in name for _, name in mem_keyring.entries)
    vault.delete_sink_secret(1, PG)
    assert vault.load_sink_secret(1, PG) is None and len(mem_keyring.entries) == 1
    session = CredentialVault(session_only=True, scope=store.vault_scope)
    session.save_sink_secret(1, PG, "in-memory-only")
    assert session.load_sink_secret(1, PG) == "in-memory-only" and len(mem_keyring.entries) == 1


def test_retention_never_deletes_what_a_sink_has_not_acknowledged(store: CaptureStore) -> None:
    pid = new_profile(store)
    store.ingest(pid, [event(push_topic(i, ms=T0 + i)) for i in range(1, 101)])
    ids = [r.id for r in store.fetch(EventQuery(pid), limit=100)]
    profile = replace(store.profiles()[0], keep_events=10)
    store.save_sink(pid, KAFKA, KAFKA)
    # a saved sink that has sent nothing holds every event
    result = store.retention(profile)
    assert (result.deleted, result.held, result.held_by) == (0, 90, (KAFKA,))
    cursors = SqliteCursorStore(store.path, pid)
    try:
        cursors.set(KAFKA, ids[39], 40)  # acknowledged the first 40
        assert store.apply_retention(profile) == 40
        # a sink given to this capture only (not saved) counts too, while it is in use
        result = store.retention(profile, [PG])
        assert (result.deleted, result.held, result.held_by) == (0, 50, (KAFKA, PG))
        cursors.set(PG, ids[-1], 100)
        cursors.set(KAFKA, ids[-1], 60)
        result = store.retention(profile, [PG])
        assert (result.deleted, result.held, result.held_by) == (50, 0, ())
    finally:
        cursors.close()
    assert [r.replay_id for r in store.fetch(EventQuery(pid))] == list(range(91, 101))
    # by age too: everything is older than a day, and nothing is held now
    store.ingest(pid, [event(push_topic(i, ms=T0 + i)) for i in range(101, 106)])
    by_age = replace(profile, keep_events=None, keep_days=1.0)
    result = store.retention(by_age)
    assert (result.deleted, result.held, result.held_by) == (10, 5, (KAFKA,))
    store.remove_sink(pid, KAFKA)  # a sink removed no longer holds anything
    assert store.retention(by_age) == type(result)(5)
