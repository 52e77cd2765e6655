"""The timeline strip over 1,000,000 captured events (benchmarks/store.py's mix of
PushTopic, CDC and platform events, 10 ms apart: 2.8 hours on three channels).

Printed, each a median of alternating rounds, with baselines measured in the same run:
  cold      data request to painted strip (1200 x 64 px) with an empty timeline cache:
            the captured span, every bucket counted per channel, laid out and painted
  warm      the same again: buckets from the cache (only the newest id and the deletion
            count are read)
  live      the same after 1,000 new events were stored (they are counted and added)
  baselines a bare ``SELECT count(*) FROM events`` (SQLite counts b-tree cells without
            reading rows) and ``count(*) WHERE profile_id = ?`` (a walk of one index)
Also, once: the timeline without its index (the table is read), the time to build the
index on these rows (the migration), and ingest with and without the proposed indexes
(alternating batches into two fresh stores). And the other store reads of issue 18 over
the same rows: a record's history (scanned, then through the search index once it has
caught up) and a window of 100 ordered by a payload field (every message read).

    python benchmarks/timeline.py [--events 1000000] [--keep DIR] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.store import events  # noqa: E402
from sfmonitor.store import (  # noqa: E402
    CaptureStore,
    Environment,
    EventQuery,
    Profile,
    record_history,
)
from sfmonitor.store.captures import event_record  # noqa: E402
from sfmonitor.store.field_columns import fetch_by_field  # noqa: E402
from sfmonitor.store.timeline import Timeline, add_index  # noqa: E402
from sfmonitor.ui.channel_colors import ChannelColors  # noqa: E402
from sfmonitor.ui.timeline import TimelineStrip  # noqa: E402
from sfmonitor.ui.worker import Worker  # noqa: E402

BATCH = 5000
WIDTH = 1200


def fill(store: CaptureStore, pid: int, start: int, n: int) -> None:
    for first in range(start, start + n, BATCH):
        count = min(BATCH, start + n - first)
        store.ingest_records([event_record(pid, ev) for ev in events(first, count)])


def open_store(folder: Path, total: int) -> tuple[CaptureStore, int]:
    """The benchmark's store: built once (kept with --keep), reused when it is there."""
    store = CaptureStore.open(folder, index_in_background=False)
    profile = store.profile("Bench") or store.save_profile(
        Profile("Bench", Environment.CUSTOM, "https://x")
    )
    assert profile.id is not None
    have = store.max_event_id()
    if have < total:
        t = time.perf_counter()
        fill(store, profile.id, have, total - have)
        print(f"built: {total - have:,} events in {time.perf_counter() - t:.0f} s")
    return store, profile.id


def drawn(strip: TimelineStrip, timeline: Timeline, pid: int) -> float:
    """Seconds from the data request to the painted strip."""
    strip.timeline = timeline
    t = time.perf_counter()
    strip.show_data(strip.load(pid, WIDTH, None))
    strip.grab()
    return time.perf_counter() - t


def bare(store: CaptureStore, sql: str, params: tuple[object, ...] = ()) -> float:
    conn = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        t = time.perf_counter()
        conn.execute(sql, params).fetchall()
        return time.perf_counter() - t
    finally:
        conn.close()


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


VARIANTS: dict[str, Callable[[sqlite3.Connection], None] | None] = {
    "without": None,
    "with the timeline's index": add_index,
}


def ingest_cost(work: Path, rounds: int) -> None:
    """events/s into fresh stores with and without the proposed indexes (batches
    alternate between the stores, in a turning order)."""
    stores = {}
    for n, (name, index) in enumerate(VARIANTS.items()):
        store = CaptureStore.open(work / f"ingest-{n}", index_in_background=False)
        pid = store.save_profile(Profile("I", Environment.CUSTOM, "https://x")).id
        assert pid is not None
        if index is not None:
            with sqlite3.connect(store.path, isolation_level=None) as conn:
                index(conn)
        stores[name] = (store, pid)
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for r in range(rounds * 4):
        batch = events(r * BATCH, BATCH)
        for name in names if r % 2 else names[::-1]:
            store, pid = stores[name]
            records = [event_record(pid, ev) for ev in batch]
            t = time.perf_counter()
            store.ingest_records(records)
            rates[name].append(BATCH / (time.perf_counter() - t))
    floor = statistics.median(rates[names[0]])
    figures = ", ".join(
        f"{name} {statistics.median(v):,.0f} ({statistics.median(v) / floor:.2f})"
        for name, v in rates.items()
    )
    print(f"ingest (store.ingest_records, batches of {BATCH:,}), events/s (ratio): {figures}")
    for store, _pid in stores.values():
        store.close()


def record_history_times(store: CaptureStore, pid: int, rounds: int) -> tuple[str, int]:
    records = [f"006{777_778:015d}", f"001{777_777:015d}"]  # a CDC and a PushTopic event
    times, found = [], 0
    for _ in range(rounds):
        store.clear_caches()
        t = time.perf_counter()
        found = sum(len(record_history.history(store, pid, [r])) for r in records)
        times.append((time.perf_counter() - t) / len(records))
    return median_ms(times), found


def other_reads(store: CaptureStore, pid: int, rounds: int) -> None:
    """A record's history, scanned and through the search index; a window ordered by a
    payload field."""
    scanned, found = record_history_times(store, pid, rounds)
    t = time.perf_counter()
    while store.index_pending(20_000):
        pass
    caught_up = time.perf_counter() - t
    indexed, again = record_history_times(store, pid, rounds)
    assert found == again == 2, (found, again)
    print(
        f"record history of one record: {scanned} while the search index is behind (a "
        f"scan), {indexed} through it (it caught up in {caught_up:.0f} s)"
    )
    for label, query in (
        ("all events", EventQuery(pid)),
        ("one channel", EventQuery(pid, channels=frozenset({"/event/Order_Placed__e"}))),
    ):
        times = []
        for _ in range(max(rounds // 2, 1)):
            t = time.perf_counter()
            fetch_by_field(store, query, "Amount__c", 0, 100, descending=True)
            times.append(time.perf_counter() - t)
        print(f"window of 100 ordered by a payload field ({label}): {median_ms(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", help="build the database in this folder and keep it")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="sfmonitor-timeline-"))
    app = QApplication.instance() or QApplication([])
    store, pid = open_store(work / "data", args.events)
    worker = Worker()
    palette = ChannelColors()
    strip = TimelineStrip(Timeline(store), worker, palette)
    strip.resize(WIDTH, 64)
    strip.show()
    app.processEvents()

    indexed = {r[0] for r in sqlite3.connect(store.path).execute("SELECT name FROM sqlite_schema")}
    if "events_timeline" not in indexed:
        timeline = Timeline(store)
        print(f"without the timeline's index: cold {drawn(strip, timeline, pid) * 1000:.0f} ms")
        timeline.close()
        t = time.perf_counter()
        with sqlite3.connect(store.path) as conn:
            add_index(conn)
        print(
            f"building the timeline's index on {args.events:,} events: "
            f"{time.perf_counter() - t:.1f} s"
        )

    cold, warm, live, count_all, count_profile = [], [], [], [], []
    newest = args.events
    for _ in range(args.rounds):
        count_all.append(bare(store, "SELECT count(*) FROM events"))
        timeline = Timeline(store)
        cold.append(drawn(strip, timeline, pid))
        count_profile.append(
            bare(store, "SELECT count(*) FROM events WHERE profile_id = ?", (pid,))
        )
        warm.append(drawn(strip, timeline, pid))
        fill(store, pid, newest, 1000)
        newest += 1000
        live.append(drawn(strip, timeline, pid))
        timeline.close()
    data = strip.data
    assert data is not None and data.histogram is not None
    hist = data.histogram
    print(
        f"timeline of {sum(hist.totals()):,} events, {hist.size} buckets of "
        f"{hist.bucket_ms / 1000:g} s, {len(hist.counts)} channels, {WIDTH} px wide "
        f"(median of {args.rounds} alternating rounds):"
    )
    base = statistics.median(count_profile)
    for label, values in (("cold", cold), ("warm", warm), ("after 1,000 new", live)):
        ratio = statistics.median(values) / base
        print(
            f"  {label}: request to painted {median_ms(values)} (target < 100 ms); "
            f"ratio to the profile count {ratio:.2f}"
        )
    print(
        f"  baselines: SELECT count(*) FROM events {median_ms(count_all)}; "
        f"... WHERE profile_id = ? {median_ms(count_profile)}"
    )
    ingest_cost(work, args.rounds)
    other_reads(store, pid, args.rounds)
    worker.shutdown()
    store.close()
    if not args.keep:
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        work.rmdir()


if __name__ == "__main__":
    main()
