"""The trigram search index: substring filters give the same answers as a full scan
whether the index is absent, partly built or complete, and deletes keep it consistent."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile, search
from tests.helpers.events import change_event, event, platform_event, push_topic

WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
N = 400


def names(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]} Corp {i} {'rare-' + str(i) if i % 97 == 0 else ''}"


def events_for(start: int, n: int) -> list:
    out = []
    for i in range(start, start + n):
        if i % 3 == 0:
            out.append(event(push_topic(i + 1, names(i))))
        elif i % 3 == 1:
            out.append(event(change_event(i + 1, amount=i)))
        else:
            out.append(event(platform_event(i + 1, f"uuid-{i}", amount=i)))
    return out


@pytest.fixture(autouse=True)
def index_small_captures(monkeypatch: pytest.MonkeyPatch) -> None:
    """These captures are small: let the index serve them all the same."""
    monkeypatch.setattr(search, "FEW_EVENTS", 0)


def oracle(store: CaptureStore, pid: int, words: list[str]) -> list[int]:
    rows = store.fetch(EventQuery(pid), limit=10**6, with_raw=True)
    return [
        r.id
        for r in rows
        if all(w.lower() in r.summary.lower() or w.lower() in (r.raw or "").lower() for w in words)
    ]


def integrity_check(folder: Path) -> None:
    conn = sqlite3.connect(folder / "capture.db")
    try:  # raises sqlite3.DatabaseError if the index and the events disagree
        conn.execute("INSERT INTO events_text (events_text) VALUES ('integrity-check')")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def half_indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CaptureStore, int]]:
    """N events, the first half of them indexed, the rest only scanned."""
    folder = tmp_path_factory.mktemp("search")
    with CaptureStore.open(folder, index_in_background=False) as s:
        profile = s.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        s.ingest(profile.id, events_for(0, N // 2))
        while s.index_pending():
            pass
        s.ingest(profile.id, events_for(N // 2, N // 2))
        yield s, profile.id


def test_a_rare_word_is_found_through_the_index_among_indexed_and_new_events(
    half_indexed: tuple[CaptureStore, int],
) -> None:
    s, pid = half_indexed
    query = EventQuery(pid, text="rare-")
    assert s._where(query).indexed  # the index narrows this one
    expected = oracle(s, pid, ["rare-"])
    assert len(expected) == len([i for i in range(N) if i % 97 == 0 and i % 3 == 0])
    assert s.count(query) == len(expected)
    assert [r.id for r in s.fetch(query, limit=100)] == expected
    count, rows = s.count_and_fetch(EventQuery(pid, text="RARE-291"))
    assert count == 1 and "rare-291" in rows[0].summary.lower()


def test_a_live_update_reads_its_few_new_events_instead_of_the_index(
    half_indexed: tuple[CaptureStore, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s, pid = half_indexed
    monkeypatch.setattr(search, "FEW_EVENTS", 200)
    top = s.max_event_id()
    live = EventQuery(pid, text="rare-", after_id=top - 150, upto_id=top)
    assert not s._where(live).indexed
    assert s._where(EventQuery(pid, text="rare-")).indexed
    expected = [i for i in oracle(s, pid, ["rare-"]) if i > top - 150]
    assert expected and s.count(live) == len(expected)


def test_a_word_in_most_events_is_scanned_not_looked_up(
    half_indexed: tuple[CaptureStore, int],
) -> None:
    s, pid = half_indexed
    query = EventQuery(pid, text="replayId")
    assert not s._where(query).indexed
    assert s.count(query) == N


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [*WORDS, "Corp 1", "rare-97", "uuid-3", "Order_Placed", "ChangeEvents"]
            ),
            st.text(alphabet=st.sampled_from(list("acmeORP 0123-_%\"'")), min_size=3, max_size=7),
        ),
        min_size=1,
        max_size=2,
    )
)
def test_substring_filters_agree_with_a_scan(
    half_indexed: tuple[CaptureStore, int], words: list[str]
) -> None:
    s, pid = half_indexed
    words = [w for w in words if w.strip() and not any(c in w for c in ' "=<>!~')]
    if not words:
        return
    text = " ".join(words)
    expected = oracle(s, pid, words)
    assert s.count(EventQuery(pid, text=text)) == len(expected)
    assert [r.id for r in s.fetch(EventQuery(pid, text=text), limit=50)] == expected[:50]


def test_deletes_leave_the_index_and_reused_ids_are_indexed_again(data_folder: Path) -> None:
    with CaptureStore.open(data_folder, index_in_background=False) as s:
        profile = s.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        pid = profile.id
        s.ingest(pid, events_for(0, 60))
        while s.index_pending():
            pass
        top = s.max_event_id()
        # the newest events go (a channel removed with its events): ids above them follow
        s.remove_subscription(pid, "/event/Order_Placed__e", delete_events=True)
        s.remove_subscription(pid, "/data/ChangeEvents", delete_events=True)
        integrity_check(data_folder)
        s.ingest(pid, [event(push_topic(1000 + i, f"Reborn {i}")) for i in range(5)])
        while s.index_pending():
            pass
        integrity_check(data_folder)
        reborn = [r.id for r in s.fetch(EventQuery(pid, text="reborn"))]
        assert len(reborn) == 5 and min(reborn) > top  # ids are never handed out again
        assert s.count(EventQuery(pid, text="rare-")) == 1  # event 0 (push topic) is kept
        s.apply_retention(profile.__class__(**{**profile.__dict__, "keep_events": 3}))
        integrity_check(data_folder)
        assert s.count(EventQuery(pid, text="reborn")) == 3
        s.delete_profile(pid)
        integrity_check(data_folder)
        assert s.max_event_id() == 0


def test_the_background_indexer_catches_up_and_a_read_only_store_uses_the_index(
    data_folder: Path,
) -> None:
    with CaptureStore.open(data_folder) as s:
        profile = s.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        s.ingest(profile.id, events_for(0, 200))
        pid = profile.id
    with CaptureStore.open(data_folder, index_in_background=False) as s:
        while s.index_pending():  # whatever the background indexer left before closing
            pass
        with CaptureStore.open(data_folder, read_only=True) as ro:
            query = EventQuery(pid, text="rare-0")
            assert ro._where(query).indexed
            assert ro.count(query) == 1


def test_far_behind_the_index_is_not_used_and_answers_stay_exact(
    half_indexed: tuple[CaptureStore, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    s, pid = half_indexed
    monkeypatch.setattr(search, "MAX_UNINDEXED", N // 4)  # N // 2 events are not indexed
    query = EventQuery(pid, text="rare-")
    assert not s._where(query).indexed
    assert s.count(query) == len(oracle(s, pid, ["rare-"]))


def test_a_plan_uses_the_few_trigrams_that_narrow_and_none_for_common_text() -> None:
    samples = [f'event {i} acme corp "x"' for i in range(100)] + ["zebra crossing"]
    assert search.plan(samples, ["acme"]) is None  # in every event: scan
    assert search.plan(samples, ["corp 7"]) == '"p 7"'  # the others narrow nothing
    rare = search.plan(samples, ["zebra crossing"])  # 12 trigrams, all rare
    assert rare is not None and rare.count(" AND ") + 1 == search.MAX_GRAMS
    assert search.plan(samples, ['q"z']) == '"q""z"'  # a quote stays text
    assert search.plan([], ["anything"]) is not None  # nothing sampled yet


def test_windows_through_the_index_match_plain_offsets_deep_into_the_matches(
    data_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first-rows path (index matches in id order, then the unindexed events) with the
    remembered anchors gives the windows of a plain OFFSET query."""
    monkeypatch.setattr(search, "BROAD_SHARE", 0.5)  # a word in 1 of 7 uses the index
    with CaptureStore.open(data_folder, index_in_background=False) as s:
        profile = s.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        s.ingest(profile.id, events_for(0, 12_000))  # "Vandelay" in 1 of 24: 500 matches
        s.ingest(profile.id, [event(push_topic(20_000 + i, "Vandelay")) for i in range(2_000)])
        while s.index_pending():
            pass
        s.ingest(profile.id, events_for(30_000, 6_000))  # not indexed: read in id order
        query = EventQuery(profile.id, text="vandelay")
        assert s._where(query).indexed
        clause, params = s._clause(s._where(query))
        total = s.count(query)
        assert total == 500 + 2_000 + 250
        for offset in (0, 97, 2_047, 2_048, 2_100, 2_490, total - 3, total + 1):
            plain = s._read(
                f"SELECT e.id FROM events e{clause} ORDER BY e.id LIMIT 100 OFFSET ?",
                [*params, offset],
            )
            assert [r.id for r in s.fetch(query, offset=offset)] == [r[0] for r in plain]


def test_a_filter_checks_its_rarest_text_first_and_non_ascii_last() -> None:
    samples = ["acme corp 1", "acme corp 2", "globex corp 12345"]
    assert search.cheapest_first(samples, ("Corp", "ACME", "12345")) == ("12345", "ACME", "Corp")
    assert search.cheapest_first(samples, ("zürich", "corp", "nowhere")) == (
        "nowhere",
        "corp",
        "zürich",
    )


def test_the_rarest_text_comes_first_in_the_sql(half_indexed: tuple[CaptureStore, int]) -> None:
    s, pid = half_indexed
    params = s._where(EventQuery(pid, text="corp rare-97")).params
    assert params.index("%rare-97%") < params.index("%corp%")
