"""Events per time bucket and channel, for the timeline strip: SQL aggregates, cached.

A bucket ``i`` of size ``b`` ms holds the events created in ``[i * b, (i + 1) * b)``. Its
counts come from one range count per channel over ``INDEX_SQL``'s index (an index walk,
no table row read), and are kept per (profile, bucket size, bucket index). Events only
arrive, so a cached bucket stays right but for the events stored since it was counted:
those (by id, a short range of the newest rows) are counted and added to the cached
buckets they fall in, whichever they are (a replay lands in old buckets, not only in the
open one). A delete anywhere bumps ``store_meta.deletions`` (see ``counts``): every cached
bucket is then forgotten. Gap rows (kind ``gap``) are counted apart, as marks.

Everything one call reads is seen in one snapshot (a read transaction on the timeline's
own read-only connection), so counts and the newest id counted always agree.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from .captures import CaptureStore
from .paths import sqlite_uri
from .records import GAP_KIND
from .schema import timeline_indexes

# The timeline's indexes (a step of schema.MIGRATIONS): the range counts are index-only.
# A file that lacks them (opened read-only before its upgrade) still gets right counts,
# read from the table (seconds over a million events instead of tens of ms).
INDEX_SQL = timeline_indexes()
MAX_LEVELS = 16  # bucket sizes remembered per timeline
MAX_BUCKETS = 200_000  # per request: more is a caller's mistake
_BUCKET = "CASE WHEN created_at >= 0 THEN created_at / :b ELSE -((-created_at - 1) / :b) - 1 END"


def add_index(conn: sqlite3.Connection) -> None:
    """Create the timeline's indexes on a writable connection (tests, or a migration)."""
    for statement in INDEX_SQL.split(";"):
        if statement.strip():
            conn.execute(statement)


@dataclass(frozen=True)
class Span:
    """The event times of a profile: the oldest and the newest (ms), the newest id."""

    first_ms: int
    last_ms: int
    upto_id: int


@dataclass(frozen=True)
class Histogram:
    """Counts of buckets ``first`` .. ``first + len(gaps) - 1`` of ``bucket_ms``."""

    bucket_ms: int
    first: int
    counts: dict[str, list[int]]  # per channel, gap rows excluded
    gaps: list[int]  # gap rows per bucket
    upto_id: int  # every event stored up to this id is counted

    @property
    def size(self) -> int:
        return len(self.gaps)

    def start_ms(self, i: int) -> int:
        """Where bucket ``first + i`` starts."""
        return (self.first + i) * self.bucket_ms

    def totals(self) -> list[int]:
        out = [0] * self.size
        for series in self.counts.values():
            for i, n in enumerate(series):
                out[i] += n
        return out


@dataclass
class _Level:
    """The cached buckets of one profile and bucket size."""

    counts: dict[int, dict[str, int]] = field(default_factory=dict)  # gap rows included
    gaps: dict[int, dict[str, int]] = field(default_factory=dict)
    upto_id: int = 0
    deletions: int | None = None


class Timeline:
    """Bucket counts of a capture store (thread-safe; blocking: call it from a worker)."""

    def __init__(self, store: CaptureStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._levels: OrderedDict[tuple[int, int], _Level] = OrderedDict()
        self._indexed = False
        self._counting = False
        self.buckets_counted = 0  # buckets read with range counts (not from the cache)
        self.rows_added = 0  # rows counted since their buckets were cached

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def clear(self) -> None:
        with self._lock:
            self._levels.clear()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                sqlite_uri(self.store.path, read_only=True),
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA busy_timeout = 5000")
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema")}
            self._counting = "store_meta" in names  # an older file cannot tell deletes
            self._indexed = {"events_timeline", "events_gap_rows"} <= names
            self._conn = conn
        return self._conn

    def span(self, profile_id: int) -> Span | None:
        """The oldest and newest event time of a profile (two index seeks)."""
        with self._lock:
            row = (
                self._connection()
                .execute(
                    "SELECT (SELECT min(created_at) FROM events INDEXED BY events_created "
                    "WHERE profile_id = ?), (SELECT max(created_at) FROM events INDEXED BY "
                    "events_created WHERE profile_id = ?), "
                    "(SELECT coalesce(max(id), 0) FROM events)",
                    (profile_id, profile_id),
                )
                .fetchone()
            )
        return None if row[0] is None else Span(int(row[0]), int(row[1]), int(row[2]))

    def histogram(self, profile_id: int, since_ms: int, until_ms: int, bucket_ms: int) -> Histogram:
        """Counts of the buckets that cover ``[since_ms, until_ms)``."""
        if bucket_ms <= 0:
            raise ValueError(f"a bucket of {bucket_ms} ms: it must be at least 1 ms")
        first, last = since_ms // bucket_ms, max(until_ms - 1, since_ms) // bucket_ms
        if last - first + 1 > MAX_BUCKETS:
            raise ValueError(
                f"{last - first + 1:,} buckets asked for; at most {MAX_BUCKETS:,} (a larger bucket)"
            )
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                level = self._level(conn, profile_id, bucket_ms)
                missing = [i for i in range(first, last + 1) if i not in level.counts]
                for run in _runs(missing):
                    self._count(conn, level, profile_id, bucket_ms, run)
            finally:
                conn.execute("COMMIT")
            return _histogram(level, bucket_ms, first, last)

    def _level(self, conn: sqlite3.Connection, profile_id: int, bucket_ms: int) -> _Level:
        """The cached level, brought up to the newest stored event (in this snapshot)."""
        top, deletions = conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM events), "
            + ("(SELECT deletions FROM store_meta)" if self._counting else "NULL")
        ).fetchone()
        key = (profile_id, bucket_ms)
        level = self._levels.pop(key, None)
        if (
            level is None
            or deletions is None  # an older file: deletes cannot be told, nothing is kept
            or level.deletions != deletions
            or len(level.counts) > MAX_BUCKETS
        ):
            level = _Level(upto_id=top, deletions=deletions)
        elif top > level.upto_id:
            self._add_new(conn, level, profile_id, bucket_ms, top)
        self._levels[key] = level
        while len(self._levels) > MAX_LEVELS:
            self._levels.popitem(last=False)
        return level

    def _add_new(
        self, conn: sqlite3.Connection, level: _Level, profile_id: int, bucket_ms: int, top: int
    ) -> None:
        """Add the events stored since the level was counted to its cached buckets."""
        rows = conn.execute(
            f"SELECT {_BUCKET}, channel, kind = :gap, count(*) FROM events "
            "WHERE id > :low AND id <= :high AND profile_id = :p GROUP BY 1, 2, 3",
            {"b": bucket_ms, "gap": GAP_KIND, "low": level.upto_id, "high": top, "p": profile_id},
        ).fetchall()
        for bucket, channel, is_gap, n in rows:
            counts = level.counts.get(bucket)
            if counts is None:
                continue  # not cached: counted whole when first asked for
            self.rows_added += n
            counts[channel] = counts.get(channel, 0) + n
            if is_gap:
                gaps = level.gaps.setdefault(bucket, {})
                gaps[channel] = gaps.get(channel, 0) + n
        level.upto_id = top

    def _count(
        self,
        conn: sqlite3.Connection,
        level: _Level,
        profile_id: int,
        bucket_ms: int,
        run: tuple[int, int],
    ) -> None:
        """Count buckets ``run[0]..run[1]`` (inclusive) and cache them."""
        low, high = run
        lo_ms, hi_ms = low * bucket_ms, (high + 1) * bucket_ms
        for i in range(low, high + 1):
            level.counts[i] = {}
        if self._indexed:
            rows = self._range_counts(conn, profile_id, bucket_ms, run)
        else:
            rows = conn.execute(
                f"SELECT {_BUCKET}, channel, count(*) FROM events INDEXED BY events_created "
                "WHERE profile_id = :p AND created_at >= :lo AND created_at < :hi "
                "GROUP BY 1, 2",
                {"b": bucket_ms, "p": profile_id, "lo": lo_ms, "hi": hi_ms},
            ).fetchall()
        for bucket, channel, n in rows:
            if n:
                level.counts[bucket][channel] = n
        gap_index = "INDEXED BY events_gap_rows" if self._indexed else ""
        for bucket, channel, n in conn.execute(
            f"SELECT {_BUCKET}, channel, count(*) FROM events {gap_index} "
            # the kind as a literal: a bound value would not match the partial index
            f"WHERE profile_id = :p AND kind = '{GAP_KIND}' AND created_at >= :lo "
            "AND created_at < :hi GROUP BY 1, 2",
            {"b": bucket_ms, "p": profile_id, "lo": lo_ms, "hi": hi_ms},
        ):
            level.gaps.setdefault(bucket, {})[channel] = n
        self.buckets_counted += high - low + 1

    def _range_counts(
        self, conn: sqlite3.Connection, profile_id: int, bucket_ms: int, run: tuple[int, int]
    ) -> Iterable[tuple[int, str, int]]:
        """One index range count per bucket and channel: an index walk over the rows of
        the range, never a sort of them (a GROUP BY on the bucket would sort them all)."""
        channels = _channels(conn, profile_id)
        return conn.execute(
            "WITH RECURSIVE bucket(i) AS (SELECT :low UNION ALL SELECT i + 1 FROM bucket "
            "WHERE i < :high) "
            "SELECT bucket.i, channel.value, (SELECT count(*) FROM events INDEXED BY "
            "events_timeline WHERE profile_id = :p AND channel = channel.value "
            "AND created_at >= bucket.i * :b AND created_at < (bucket.i + 1) * :b) "
            "FROM bucket, json_each(:channels) AS channel",
            {
                "low": run[0],
                "high": run[1],
                "p": profile_id,
                "b": bucket_ms,
                "channels": orjson.dumps(channels).decode(),
            },
        ).fetchall()


def _channels(conn: sqlite3.Connection, profile_id: int) -> list[str]:
    """The profile's channels with events: one index seek per channel (a skip scan)."""
    rows = conn.execute(
        "WITH RECURSIVE ch(name) AS (SELECT min(channel) FROM events INDEXED BY "
        "events_timeline WHERE profile_id = :p UNION ALL SELECT (SELECT min(channel) FROM "
        "events INDEXED BY events_timeline WHERE profile_id = :p AND channel > ch.name) "
        "FROM ch WHERE ch.name IS NOT NULL) SELECT name FROM ch WHERE name IS NOT NULL",
        {"p": profile_id},
    ).fetchall()
    return [r[0] for r in rows]


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted indexes as runs of consecutive ones: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _histogram(level: _Level, bucket_ms: int, first: int, last: int) -> Histogram:
    size = last - first + 1
    counts: dict[str, list[int]] = {}
    gaps = [0] * size
    for i in range(size):
        bucket_gaps = level.gaps.get(first + i, {})
        gaps[i] = sum(bucket_gaps.values())
        for channel, n in level.counts[first + i].items():
            events = n - bucket_gaps.get(channel, 0)
            if events:
                counts.setdefault(channel, [0] * size)[i] = events
    return Histogram(bucket_ms, first, dict(sorted(counts.items())), gaps, level.upto_id)
