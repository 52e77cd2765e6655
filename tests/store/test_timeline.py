"""Timeline buckets against counts made in Python from the same events: with and without
the timeline's index, cached, after live events, replays into old buckets and deletes."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Iterator

import pytest

from sfmonitor.store import CaptureStore, Gap, Profile
from sfmonitor.store.timeline import MAX_BUCKETS, Histogram, Span, Timeline, add_index

T0 = 1_764_300_000_000
CHANNELS = ("/topic/A", "/data/ChangeEvents", "/event/E__e")


def record(pid: int, channel: str, ms: int, n: int) -> tuple[object, ...]:
    return (pid, channel, "pushtopic", n, None, ms, ms, "", f"event {n}", "{}")


class Captured:
    """The store and what was put in it (the truth the timeline is checked against)."""

    def __init__(self, store: CaptureStore, pid: int) -> None:
        self.store = store
        self.pid = pid
        self.events: list[tuple[str, int]] = []  # (channel, ms)
        self.gaps: list[tuple[str, int]] = []
        self.serial = 0

    def add(self, items: list[tuple[str, int]]) -> None:
        records = []
        for channel, ms in items:
            self.serial += 1
            records.append(record(self.pid, channel, ms, self.serial))
        self.store.ingest_records(records)
        self.events += items

    def gap(self, channel: str, ms: int) -> None:
        self.store.record_gap(self.pid, Gap(channel, ms, None, "new_only", "replay id gone"))
        self.gaps.append((channel, ms))

    def expected(
        self, since: int, until: int, bucket: int
    ) -> tuple[dict[str, list[int]], list[int]]:
        first, last = since // bucket, max(until - 1, since) // bucket
        size = last - first + 1
        counts: dict[str, list[int]] = {}
        for channel, ms in self.events:
            if first <= ms // bucket <= last:
                counts.setdefault(channel, [0] * size)[ms // bucket - first] += 1
        gaps = [0] * size
        for _channel, ms in self.gaps:
            if first <= ms // bucket <= last:
                gaps[ms // bucket - first] += 1
        return dict(sorted(counts.items())), gaps


@pytest.fixture(params=["indexed", "plain"])
def captured(request: pytest.FixtureRequest, store: CaptureStore, profile: Profile) -> Captured:
    if request.param == "indexed":
        with sqlite3.connect(store.path) as conn:
            add_index(conn)
    assert profile.id is not None
    other = store.save_profile(Profile("Other", profile.environment, profile.login_url))
    assert other.id is not None
    store.ingest_records([record(other.id, "/topic/A", T0 + 5, 10**6)])  # never counted
    return Captured(store, profile.id)


@pytest.fixture
def timeline(captured: Captured) -> Iterator[Timeline]:
    tl = Timeline(captured.store)
    yield tl
    tl.close()


def check(tl: Timeline, cap: Captured, since: int, until: int, bucket: int) -> Histogram:
    hist = tl.histogram(cap.pid, since, until, bucket)
    counts, gaps = cap.expected(since, until, bucket)
    assert hist.counts == counts
    assert hist.gaps == gaps
    assert hist.first == since // bucket and hist.bucket_ms == bucket
    return hist


def test_buckets_are_the_events_per_channel_and_gaps_apart(
    timeline: Timeline, captured: Captured
) -> None:
    captured.add([(CHANNELS[i % 3], T0 + i * 700) for i in range(300)])
    captured.gap("/topic/A", T0 + 10_000)
    captured.gap("/event/E__e", T0 + 10_500)
    hist = check(timeline, captured, T0, T0 + 300 * 700, 60_000)
    assert sum(hist.totals()) == 300 and sum(hist.gaps) == 2
    check(timeline, captured, T0 - 5000, T0 + 7, 1000)  # a range partly before the events
    check(timeline, captured, T0 + 33_333, T0 + 99_999, 7)
    assert timeline.span(captured.pid) == Span(T0, T0 + 299 * 700, captured.store.max_event_id())
    assert timeline.span(captured.pid + 100) is None


def test_cached_buckets_are_not_counted_again_and_new_events_are_added(
    timeline: Timeline, captured: Captured
) -> None:
    captured.add([(CHANNELS[i % 3], T0 + i * 1000) for i in range(120)])
    check(timeline, captured, T0, T0 + 180_000, 10_000)
    counted = timeline.buckets_counted
    check(timeline, captured, T0, T0 + 180_000, 10_000)
    assert timeline.buckets_counted == counted  # all from the cache

    captured.add([("/topic/A", T0 + 125_000), ("/data/ChangeEvents", T0 + 126_000)])  # live
    captured.add([("/event/E__e", T0 + 5_000)] * 3)  # a replay: into an old bucket
    captured.gap("/topic/A", T0 + 44_000)
    check(timeline, captured, T0, T0 + 180_000, 10_000)
    assert timeline.buckets_counted == counted and timeline.rows_added == 6
    check(timeline, captured, T0, T0 + 200_000, 10_000)  # two buckets more: only they are read
    assert timeline.buckets_counted == counted + 2


def test_deletes_forget_the_cache(timeline: Timeline, captured: Captured) -> None:
    captured.add([(CHANNELS[i % 3], T0 + i * 1000) for i in range(90)])
    check(timeline, captured, T0, T0 + 90_000, 30_000)
    captured.store.remove_subscription(captured.pid, "/topic/A", delete_events=True)
    captured.events = [e for e in captured.events if e[0] != "/topic/A"]
    captured.add([("/topic/A", T0 + 1)])  # new rows may reuse deleted ids
    check(timeline, captured, T0, T0 + 90_000, 30_000)


def test_times_before_1970_fall_in_their_own_buckets(
    timeline: Timeline, captured: Captured
) -> None:
    captured.add([("/topic/A", -1), ("/topic/A", -1000), ("/topic/A", -1001), ("/topic/A", 0)])
    check(timeline, captured, -3000, 1000, 1000)
    captured.add([("/topic/A", -999), ("/topic/A", -2500)])  # added through the cache
    check(timeline, captured, -3000, 1000, 1000)


def test_random_traffic_matches_python_counts(timeline: Timeline, captured: Captured) -> None:
    rng = random.Random(18)
    newest = T0
    for _round in range(12):
        batch = []
        for _ in range(rng.randint(1, 200)):
            late = rng.random() < 0.2  # replayed: anywhere in the past
            ms = rng.randint(T0, newest) if late else newest + rng.randint(0, 3000)
            newest = max(newest, ms)
            batch.append((rng.choice(CHANNELS), ms))
        captured.add(batch)
        if rng.random() < 0.3:
            captured.gap(rng.choice(CHANNELS), rng.randint(T0, newest))
        for bucket in (1000, 7000, 60_000):
            since = rng.randint(T0 - 10_000, newest)
            check(timeline, captured, since, rng.randint(since, newest + 10_000), bucket)
            check(timeline, captured, T0, newest + 1, bucket)


def test_bad_requests_are_refused_clearly(timeline: Timeline, captured: Captured) -> None:
    with pytest.raises(ValueError, match="at least 1 ms"):
        timeline.histogram(captured.pid, T0, T0 + 10, 0)
    with pytest.raises(ValueError, match="buckets asked for"):
        timeline.histogram(captured.pid, T0, T0 + MAX_BUCKETS * 2, 1)


def test_a_read_only_store_has_a_timeline(captured: Captured, data_folder: object) -> None:
    captured.add([("/topic/A", T0 + i) for i in range(10)])
    with CaptureStore.open(captured.store.path.parent, read_only=True) as reader:
        tl = Timeline(reader)
        try:
            assert sum(tl.histogram(captured.pid, T0, T0 + 10, 5).totals()) == 10
        finally:
            tl.close()


def test_counter_sanity() -> None:  # the helper's own arithmetic, on a tiny case
    cap = Captured.__new__(Captured)
    cap.events, cap.gaps = [("/a", 5), ("/a", 15), ("/b", 15)], []
    assert cap.expected(0, 20, 10) == ({"/a": [1, 1], "/b": [0, 1]}, [0, 0])
    assert Counter(ch for ch, _ in cap.events) == {"/a": 2, "/b": 1}
