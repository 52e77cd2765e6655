"""The capture store on real SQLite files: ingest, dedupe, replay state, queries, retention."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
from pathlib import Path

import pytest

from sfmonitor.store import (
    CaptureStore,
    Environment,
    EventQuery,
    FilterError,
    Gap,
    Profile,
    Subscription,
)
from tests.helpers.events import T0, change_event, event, platform_event, push_topic


def test_files_are_private_and_in_wal_mode(store: CaptureStore, data_folder: Path) -> None:
    assert stat.S_IMODE(data_folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_ingest_stores_every_kind_and_the_newest_replay_id(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    batch = [
        event(push_topic(10)),
        event(push_topic(17)),
        event(change_event(3)),
        event(platform_event(5, "uuid-5")),
    ]
    result = store.ingest(profile.id, batch)
    assert (result.stored, result.duplicates) == (4, 0)
    states = store.replay_states(profile.id)
    assert states["/topic/Accounts"].replay_id == 17
    assert states["/topic/Accounts"].created_at == T0
    assert states["/data/ChangeEvents"].replay_id == 3
    assert states["/event/Order_Placed__e"].replay_id == 5
    rows = store.fetch(EventQuery(profile.id), with_raw=True)
    assert [r.kind for r in rows] == ["pushtopic", "pushtopic", "change_event", "platform_event"]
    assert rows[2].change == "UPDATE" and rows[2].summary.startswith("Opportunity 006")
    assert rows[3].event_uuid == "uuid-5"
    assert rows[0].raw is not None and '"replayId":10' in rows[0].raw


def test_redeliveries_are_dropped_by_replay_id_and_by_event_uuid(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(1)), event(platform_event(5, "u-1"))])
    again = store.ingest(
        profile.id,
        [event(push_topic(1)), event(platform_event(9, "u-1")), event(push_topic(2))],
    )
    assert (again.stored, again.duplicates) == (1, 2)
    assert store.count(EventQuery(profile.id)) == 3
    # another profile may hold the same event
    other = store.save_profile(Profile("Other", Environment.PRODUCTION, "https://x"))
    assert other.id is not None
    assert store.ingest(other.id, [event(push_topic(1))]).stored == 1


def test_events_and_replay_ids_commit_together_or_not_at_all(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    conn = sqlite3.connect(store.path)
    conn.execute(
        "CREATE TRIGGER fail_replay BEFORE INSERT ON replay_state "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError, match="disk trouble"):
        store.ingest(profile.id, [event(push_topic(1)), event(push_topic(2))])
    assert store.count(EventQuery(profile.id)) == 0
    conn.execute("DROP TRIGGER fail_replay")
    conn.commit()
    conn.close()
    assert store.ingest(profile.id, [event(push_topic(1))]).stored == 1


@pytest.fixture
def filled(store: CaptureStore, profile: Profile) -> int:
    assert profile.id is not None
    store.ingest(
        profile.id,
        [
            event(push_topic(1, "Acme Corp", T0)),
            event(push_topic(2, "Globex 100% Inc", T0 + 1000)),
            event(push_topic(3, "Äpfel_GmbH", T0 + 2000, typ="created")),
            event(change_event(4, "UPDATE", T0 + 3000, amount=2500)),
            event(change_event(5, "CREATE", T0 + 4000, amount=900)),
            event(platform_event(6, "u6", amount=1500, ms=T0 + 5000)),
        ],
    )
    return profile.id


def ids(store: CaptureStore, query: EventQuery) -> list[int]:
    rows = store.fetch(query, limit=1000)
    assert store.count(query) == len(rows)
    return [r.replay_id or 0 for r in rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme", [1]),
        ("ACME corp", [1]),
        ('"globex 100%"', [2]),
        ("100%", [2]),  # % is not a wildcard
        ("e_x", []),  # nor is _
        ("_gmbh", [3]),
        ("äpfel", [3]),  # Unicode case folding
        ("ÄPFEL", [3]),
        ("Opportunity", [4, 5]),  # the summary names the object
        ("ChangeEventHeader.changeType = update", [4]),
        ("ChangeEventHeader.changeType != UPDATE", [1, 2, 3, 5, 6]),
        ("Amount > 1000", [4]),
        ("Amount__c >= 1500", [6]),
        ("Amount <= 900", [5]),
        ("sobject.Name ~ globex", [2]),
        ("event.type = created", [3]),
        ("Region__c = null", [1, 2, 3, 4, 5]),
        ("Region__c != null", [6]),
        ("channel = /event/Order_Placed__e", [6]),
        ("ChangeEventHeader.recordIds[0] ~ 006", [4, 5]),
        ("opportunity Amount > 1000", [4]),
    ],
)
def test_filter_language(store: CaptureStore, filled: int, text: str, expected: list[int]) -> None:
    assert ids(store, EventQuery(filled, text=text)) == expected


def test_channel_kind_time_and_selection_filters(store: CaptureStore, filled: int) -> None:
    assert ids(store, EventQuery(filled, channels=frozenset({"/data/ChangeEvents"}))) == [4, 5]
    assert ids(store, EventQuery(filled, kinds=frozenset({"pushtopic", "platform_event"}))) == [
        1,
        2,
        3,
        6,
    ]
    assert ids(store, EventQuery(filled, since_ms=T0 + 1000, until_ms=T0 + 3000)) == [2, 3]
    rows = store.fetch(EventQuery(filled))
    assert ids(store, EventQuery(filled, ids=(rows[0].id, rows[4].id))) == [1, 5]
    assert ids(store, EventQuery(filled, after_id=rows[3].id)) == [5, 6]


def test_windows_and_sorting(store: CaptureStore, filled: int) -> None:
    q = EventQuery(filled)
    assert [r.replay_id for r in store.fetch(q, offset=2, limit=2)] == [3, 4]
    assert [r.replay_id for r in store.fetch(q, limit=3, sort="time", descending=True)] == [6, 5, 4]
    by_summary = [r.summary for r in store.fetch(q, sort="summary")]
    assert by_summary == sorted(by_summary)
    assert store.fetch(q, offset=100) == []


@pytest.mark.parametrize(
    "text",
    [
        "Amount >",
        "> 5",
        '"unterminated',
        "Amount__c > null",
        "a.b-c = 1",
        "x = = 1",
    ],
)
def test_bad_filters_raise_filter_error_with_position(
    store: CaptureStore, filled: int, text: str
) -> None:
    with pytest.raises(FilterError) as info:
        store.count(EventQuery(filled, text=text))
    assert 0 <= info.value.position <= len(text)


def test_hostile_filter_text_is_data_not_sql(store: CaptureStore, filled: int) -> None:
    for text in [
        "'; DROP TABLE events; --",
        '" OR 1=1 --',
        "x') OR ('1'='1",
        'Name = "\'); DELETE FROM events; --"',
    ]:
        with contextlib.suppress(FilterError):  # refused as a filter: fine too
            assert store.count(EventQuery(filled, text=text)) == 0
    assert store.count(EventQuery(filled)) == 6


def test_profiles_subscriptions_and_replay_state(store: CaptureStore, profile: Profile) -> None:
    assert profile.id is not None
    store.set_subscription(profile.id, Subscription("/topic/Accounts"))
    store.set_subscription(profile.id, Subscription("/event/Order_Placed__e", replay_policy="all"))
    store.set_subscription(profile.id, Subscription("/topic/Accounts", enabled=False))
    subs = store.subscriptions(profile.id)
    assert [(s.channel, s.enabled, s.replay_policy) for s in subs] == [
        ("/topic/Accounts", False, "new"),
        ("/event/Order_Placed__e", True, "all"),
    ]
    store.mark_live_since(profile.id, "/topic/Accounts", T0)
    assert store.replay_states(profile.id)["/topic/Accounts"].live_since == T0
    store.ingest(profile.id, [event(push_topic(8)), event(platform_event(2, "u"))])
    state = store.replay_states(profile.id)["/topic/Accounts"]
    assert (state.replay_id, state.live_since) == (8, None)
    store.mark_live_since(profile.id, "/topic/Accounts", T0 + 1)  # ignored: an id is known
    assert store.replay_states(profile.id)["/topic/Accounts"].live_since is None

    store.remove_subscription(profile.id, "/topic/Accounts", delete_events=False)
    assert store.count(EventQuery(profile.id)) == 2
    assert "/topic/Accounts" not in store.replay_states(profile.id)
    store.remove_subscription(profile.id, "/event/Order_Placed__e", delete_events=True)
    assert store.channel_counts(profile.id) == {"/topic/Accounts": 1}

    gap = store.record_gap(profile.id, Gap("/topic/Accounts", T0, 8, "replay_all", "400::bad"))
    assert store.gaps(profile.id) == [gap]
    store.delete_profile(profile.id)
    assert store.profiles() == []
    assert store.count(EventQuery()) == 0
    assert store.gaps(profile.id) == []


def test_retention_keeps_the_newest_events(store: CaptureStore, profile: Profile) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i, ms=T0 + i)) for i in range(1, 12_001)])
    profile.keep_events = 10_500
    assert store.apply_retention(profile) == 1_500
    rows = store.fetch(EventQuery(profile.id), limit=1)
    assert rows[0].replay_id == 1_501
    profile.keep_events = None
    profile.keep_days = 1.0  # every event above is far older than a day
    assert store.apply_retention(profile) == 10_500
    assert store.count(EventQuery(profile.id)) == 0


def test_read_only_store_refuses_writes(store: CaptureStore, data_folder: Path) -> None:
    from sfmonitor.store import ReadOnlyStoreError

    reader = CaptureStore.open(data_folder, read_only=True)
    try:
        assert reader.profiles() == store.profiles()
        with pytest.raises(ReadOnlyStoreError):
            reader.save_profile(Profile("X", Environment.CUSTOM, "https://x"))
    finally:
        reader.close()


def test_windows_deep_in_a_large_capture_match_plain_offsets(
    store: CaptureStore, profile: Profile
) -> None:
    """Windows found through remembered anchors equal those of a plain OFFSET query, also
    after more rows arrive and after retention deletes rows."""
    assert profile.id is not None
    kinds = [push_topic, change_event]
    store.ingest(profile.id, [event(kinds[i % 2](i + 1)) for i in range(10_000)])
    q_all = EventQuery(profile.id)
    q_cdc = EventQuery(profile.id, channels=frozenset({"/data/ChangeEvents"}))

    def plain(query: EventQuery, offset: int) -> list[int]:
        clause, params = store._clause(store._where(query))
        sql = f"SELECT e.replay_id FROM events e{clause} ORDER BY e.id LIMIT 100 OFFSET ?"
        return [r[0] for r in store._read(sql, [*params, offset])]

    def check() -> None:
        for query in (q_all, q_cdc):
            total = store.count(query)
            for offset in (0, 2047, 2048, 4100, total // 2, total - 100, total - 1, total + 5):
                got = [r.replay_id for r in store.fetch(query, offset=offset)]
                assert got == plain(query, offset), (query.channels, offset)

    check()
    store.ingest(profile.id, [event(kinds[i % 2](i + 1)) for i in range(10_000, 13_000)])
    check()
    profile.keep_events = 7_000
    store.apply_retention(profile)
    check()
    count, first = store.count_and_fetch(q_cdc, limit=3)
    assert count == store.count(q_cdc) and [r.id for r in first] == [
        r.id for r in store.fetch(q_cdc, limit=3)
    ]
    assert store.count_and_fetch(EventQuery(profile.id, text="no such text")) == (0, [])
