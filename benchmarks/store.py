"""The capture store at volume: 1,000,000 events of ~512 B (a mix of PushTopic, CDC and
platform events) on real SQLite files.

Prints, each with the targets of the capture issue and a baseline measured in the same run:
  ingest   events/s through CaptureStore.ingest in batches of 5,000 (events + replay ids in
           one transaction each) vs a bare executemany into an unindexed table (the floor);
           chunks alternate store and floor, medians of the chunks;
  search   count + first 100 rows for substring filters from rare to common, the search
           index caught up: a new filter (nothing remembered), and the same filter again
           1,000 events later (its count remembered), vs a bare LIKE count (median of 5);
  window   100 rows at offsets 0, 1/3, 1/2, end (unfiltered and by channel; median of 5;
           the first deep window also remembers anchors for the query and is shown apart);
  export   all events to JSON: seconds, and the peak extra memory of the exporting process;
  size     database bytes against the raw message bytes.

    python benchmarks/store.py [--events 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile  # noqa: E402
from sfmonitor.store.captures import event_record  # noqa: E402
from sfmonitor.streaming import StreamEvent  # noqa: E402
from sfmonitor.timefmt import iso_from_ms  # noqa: E402

BATCH = 5000
AGAIN_AFTER = 1000  # events stored since a filter was counted
CHUNK = 100_000
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")
T0 = 1_764_300_000_000


def message(i: int) -> dict[str, Any]:
    """Event ``i`` of the mix, about 512 bytes of JSON."""
    ms = T0 + i * 10
    name = f"{COMPANIES[i % len(COMPANIES)]} Corp {i}"
    note = "x" * 260
    kind = i % 3
    if kind == 0:
        return {
            "channel": "/topic/AccountUpdates",
            "data": {
                "event": {"createdDate": iso_from_ms(ms), "replayId": i + 1, "type": "updated"},
                "sobject": {"Id": f"001{i:015d}", "Name": name, "Description": note},
            },
        }
    if kind == 1:
        return {
            "channel": "/data/ChangeEvents",
            "data": {
                "schema": "IeRuaY6cbI_HsV8Rv1Mc5g",
                "payload": {
                    "ChangeEventHeader": {
                        "entityName": "Opportunity",
                        "recordIds": [f"006{i:015d}"],
                        "changeType": "UPDATE",
                        "changedFields": ["Amount", "Description"],
                        "commitTimestamp": ms,
                    },
                    "Amount": i % 100_000,
                    "Description": note[:200],
                    "Name": name,
                },
                "event": {"replayId": i + 1},
            },
        }
    return {
        "channel": "/event/Order_Placed__e",
        "data": {
            "schema": "dffQ2QLzDNHqwB8_sHMxdA",
            "payload": {
                "CreatedDate": iso_from_ms(ms),
                "Amount__c": i % 5000,
                "Customer__c": name,
                "Note__c": note[:220],
            },
            "event": {"replayId": i + 1, "EventUuid": f"e{i:031d}"},
        },
    }


def events(start: int, n: int) -> list[StreamEvent]:
    return [
        StreamEvent.from_message(message(i), received_at=(T0 + i * 10 + 5) / 1000)
        for i in range(start, start + n)
    ]


def median_time(fn: Any, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def median_again(store: CaptureStore, query: EventQuery, shown_upto: int) -> float:
    """count + first 100 rows of a filter whose count up to ``shown_upto`` is remembered
    (as after showing it), with the events since then new; median of 5."""
    times = []
    for _ in range(5):
        store.clear_caches()
        store.count(replace(query, upto_id=shown_upto))
        t = time.perf_counter()
        store.count_and_fetch(query, limit=100)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


EXPORT_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from sfmonitor.store import CaptureStore, EventQuery, export_events

def status(key):  # kB; VmHWM is this process's own peak (ru_maxrss survives exec)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

store = CaptureStore.open(Path(sys.argv[1]), read_only=True)
before = status("VmRSS")
t = time.perf_counter()
result = export_events(store, EventQuery(), Path(sys.argv[2]))
seconds = time.perf_counter() - t
peak = status("VmHWM")
print(result.count, result.bytes, seconds, (peak - before) / 1024, peak / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", help="build the database in this folder and keep it")
    args = parser.parse_args()
    total = args.events
    work = Path(args.keep or tempfile.mkdtemp(prefix="sfmonitor-bench-"))
    folder = work / "data"
    floor_path = work / "floor.db"
    for path in (floor_path, folder / "capture.db"):
        if path.exists():
            sys.exit(f"{path} exists: use an empty --keep folder")
    store = CaptureStore.open(folder)
    profile = store.save_profile(Profile("Bench", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    pid = profile.id

    floor = sqlite3.connect(floor_path, isolation_level=None)
    floor.execute("PRAGMA journal_mode = WAL")
    floor.execute("PRAGMA synchronous = NORMAL")
    floor.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, profile_id INT, channel TEXT, kind TEXT, "
        "replay_id INT, event_uuid TEXT, created_at INT, received_at INT, change TEXT, "
        "summary TEXT, raw TEXT)"
    )
    insert = "INSERT INTO events VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    store_rates, floor_rates = [], []
    raw_bytes = 0
    for start in range(0, total, CHUNK):
        n = min(CHUNK, total - start)
        batches = [events(s, min(BATCH, start + n - s)) for s in range(start, start + n, BATCH)]
        t = time.perf_counter()
        for batch in batches:
            store.ingest(pid, batch)
        store_rates.append(n / (time.perf_counter() - t))
        t = time.perf_counter()
        for batch in batches:
            rows = [event_record(pid, ev) for ev in batch]
            floor.execute("BEGIN")
            floor.executemany(insert, rows)
            floor.execute("COMMIT")
        floor_rates.append(n / (time.perf_counter() - t))
        raw_bytes += sum(len(orjson.dumps(ev.raw)) for b in batches for ev in b)
    ingest, floor_ingest = statistics.median(store_rates), statistics.median(floor_rates)
    print(f"events: {total:,}, mean raw message {raw_bytes / total:.0f} B")
    print(
        f"ingest: {ingest:,.0f} events/s (target >= 50,000); floor (bare insert) "
        f"{floor_ingest:,.0f} events/s; ratio {ingest / floor_ingest:.2f}"
    )

    t = time.perf_counter()
    while store.index_pending(20_000):  # with the background indexer, until caught up
        pass
    behind = time.perf_counter() - t
    db_now = sum(p.stat().st_size for p in folder.glob("capture.db*"))
    print(
        f"search index: caught up {behind:.1f} s after ingest ended; database "
        f"{db_now / 1e6:,.0f} MB with it"
    )

    top = store.max_event_id()
    for term in ("acme corp 12345", "001000000000777", "vandelay", "updated"):
        query = EventQuery(pid, text=term)
        found = store.count(query)

        def cold(q: EventQuery = query) -> None:
            store.clear_caches()  # no remembered plan, count or window: a new filter
            store.count_and_fetch(q, limit=100)

        search = median_time(cold)
        again = median_again(store, query, top - AGAIN_AFTER)
        like = f"%{term}%"
        bare = median_time(
            lambda p=like: floor.execute(
                "SELECT count(*) FROM events WHERE summary LIKE ? OR raw LIKE ?", (p, p)
            ).fetchone()
        )
        print(
            f"search {term!r}: {found:,} matches, count + first 100 rows {search * 1000:.0f} ms "
            f"(target < 200 ms), again {AGAIN_AFTER:,} events later "
            f"{again * 1000:.1f} ms; floor (bare LIKE count) "
            f"{bare * 1000:.0f} ms; ratio {search / bare:.2f}"
        )

    for label, query in (
        ("all", EventQuery(pid)),
        ("channel", EventQuery(pid, channels=frozenset({"/data/ChangeEvents"}))),
    ):
        matching = store.count(query)
        t = time.perf_counter()
        store.fetch(query, offset=matching - 100, limit=100)
        figures = [f"first deep window {(time.perf_counter() - t) * 1000:.0f} ms, then"]
        for offset in (0, matching // 3, matching // 2, max(matching - 100, 0)):
            seconds = median_time(lambda q=query, o=offset: store.fetch(q, offset=o, limit=100))
            figures.append(f"@{offset:,} {seconds * 1000:.1f} ms")
        print(f"window of 100 ({label}): {', '.join(figures)} (target < 20 ms)")

    floor.close()
    store.close()
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_CHILD, str(folder), str(work / "export.json"), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    count, size, seconds = int(out[0]), int(out[1]), float(out[2])
    extra_mb, peak_mb = float(out[3]), float(out[4])
    print(
        f"export: {count:,} events, {size / 1e6:,.0f} MB of JSON in {seconds:.1f} s "
        f"(target < 10 s), peak extra memory {extra_mb:.0f} MB (target < 50 MB; "
        f"exporting process peak RSS {peak_mb:.0f} MB)"
    )
    db_bytes = sum(p.stat().st_size for p in folder.glob("capture.db*"))
    print(
        f"size: database {db_bytes / 1e6:,.0f} MB for {raw_bytes / 1e6:,.0f} MB of raw messages "
        f"({db_bytes / raw_bytes:.2f}x)"
    )
    if not args.keep:
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        work.rmdir()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS {peak:.0f} MB (pid {os.getpid()})")


if __name__ == "__main__":
    main()
