"""Reading events: the WHERE of a query (the filter language, the search index's
candidates), counts remembered across calls, windows at any offset (anchors), the planner's
sample, and the background indexer. ``CaptureStore`` inherits these; they read through its
connections and caches, declared here for the type checker.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from . import search
from .compiled import CompiledQuery, Prepared
from .counts import CountCache, Counted, key_of
from .errors import StoreDamagedError
from .filters import Compiled, compile_filter, parse
from .health import is_damage
from .indexer import SearchIndexing
from .models import EventQuery, EventRow
from .paths import sqlite_uri

SORT_COLUMNS = {
    "id": "e.id",
    "time": "e.created_at",
    "received": "e.received_at",
    "channel": "e.channel",
    "kind": "e.kind",
    "replay": "e.replay_id",
    "change": "e.change",
    "summary": "e.summary",
}
_ROW_COLUMNS = (
    "e.id, e.profile_id, e.channel, e.kind, e.replay_id, e.event_uuid, e.created_at, "
    "e.received_at, e.change, e.summary"
)
ANCHOR_EVERY = 2048
MAX_ANCHORED_QUERIES = 16

F = TypeVar("F", bound=Callable[..., Any])


def _damage_told(method: F) -> F:
    """A query meeting a damaged page raises ``StoreDamagedError`` (what to do), not
    SQLite's bare "database disk image is malformed"; one meeting a message SQLite's JSON
    functions cannot read is run again with ``guard_json``."""

    @functools.wraps(method)
    def wrapper(self: EventQueries, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise self._damaged(exc) from exc
            if not self._met_unreadable_json(exc):
                raise
        return method(self, *args, **kwargs)  # again, reading fields with care

    return wrapper  # type: ignore[return-value]


class EventQueries(SearchIndexing):
    """The query side of ``CaptureStore``."""

    _guard_json = False  # a message too deep for SQLite's JSON functions was met

    def _met_unreadable_json(self, exc: sqlite3.DatabaseError) -> bool:
        """Was ``exc`` SQLite's JSON functions failing on one message? From now on field
        conditions read messages with care (``compile_filter``'s ``guard_json``)."""
        if self._guard_json or "malformed JSON" not in str(exc):
            return False
        self._guard_json = True
        return True

    path: Path
    _counts: CountCache
    _pool: ThreadPoolExecutor
    _searchable: bool
    _counting: bool
    _plan_lock: threading.Lock
    _plans: dict[tuple[str, ...], str | None]
    _sampled: tuple[int, list[str]]
    _anchor_lock: threading.Lock
    _anchors: dict[tuple[Any, ...], list[int]]
    _anchors_deletions: int | None
    _queries: int
    _queries_lock: threading.Lock
    _stopping: threading.Event
    _new_rows: threading.Event
    _last_ingest: float
    _last_batch: int

    if TYPE_CHECKING:

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _reader_conn(self) -> sqlite3.Connection: ...

        def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

        def _damaged(self, exc: sqlite3.DatabaseError) -> StoreDamagedError: ...

        @staticmethod
        def _connect(target: str, uri: bool) -> sqlite3.Connection: ...

    # --- queries ---------------------------------------------------------------------------

    @_damage_told
    def _prepare(self, query: EventQuery) -> Prepared:
        """The filter parsed (texts rarest first) and the index's progress read: once per
        request, however many parts (a count's halves, the window) it then runs as.
        Raises FilterError for a bad filter, on the caller's thread."""
        flt = parse(query.text) if query.text.strip() else None
        if flt is None or not flt.texts:
            return Prepared(flt)
        newest, indexed = self._progress()
        samples = self._sample(newest)
        if len(flt.texts) > 1:
            flt = replace(flt, texts=search.cheapest_first(samples, flt.texts))
        return Prepared(flt, newest, indexed, samples)

    def _where(self, query: EventQuery, prepared: Prepared | None = None) -> Compiled:
        """The WHERE of a query (``prepared`` from ``_prepare``: the same filter, with any
        id bounds). When the search index narrows a text filter, its candidates drive the
        query: the other conditions get a unary ``+`` so that SQLite checks them on each
        candidate instead of walking an index of its own, and the id bounds also go into
        the candidates' subquery (a live update asks only for new rows)."""
        if prepared is None:
            prepared = self._prepare(query)
        flt = prepared.flt
        expression = None
        if flt is not None and flt.texts:
            texts = tuple(t for t in flt.texts if search.usable(t))
            if texts and self._searchable:
                expression = self._plan(
                    texts, query, prepared.newest, prepared.indexed, prepared.samples
                )
        out = Compiled()
        plus = "+" if expression is not None else ""
        # a text filter reads the rows anyway: in table order, not through the profile's
        # index (one b-tree walk per row instead of two, and no sort for the id order)
        scan = "+" if flt is not None and flt.texts else plus
        bounds = (
            (scan + "e.profile_id = ?", query.profile_id),
            ("e.created_at >= ?", query.since_ms),
            ("e.created_at < ?", query.until_ms),
            ("e.id > ?", query.after_id),
            ("e.id <= ?", query.upto_id),
        )
        for sql, value in bounds:
            if value is not None:
                out.sql.append(sql if sql.startswith("+") else plus + sql)
                out.params.append(value)
        for column, values in (("e.channel", query.channels), ("e.kind", query.kinds)):
            if values:
                out.sql.append(f"{plus}{column} IN ({', '.join('?' * len(values))})")
                out.params += sorted(values)
        if query.exclude_channels:
            marks = ", ".join("?" * len(query.exclude_channels))
            out.sql.append(f"{plus}e.channel NOT IN ({marks})")
            out.params += sorted(query.exclude_channels)
        if query.ids is not None:
            out.sql.append("e.id IN (SELECT value FROM json_each(?))")
            out.params.append(orjson.dumps(list(query.ids)).decode())
        if flt is not None:
            compile_filter(flt, out, guard_json=self._guard_json)
        if expression is not None:
            low = query.after_id or 0
            high = search.MAX_ID if query.upto_id is None else query.upto_id
            out.match = (expression, low, high)
        return out

    @staticmethod
    def _clause(where: Compiled) -> tuple[str, list[object]]:
        """The WHERE clause of a query and its parameters: its conditions, then the
        search index's candidates."""
        sql, params = list(where.sql), list(where.params)
        if where.match is not None:
            sql.append(search.CANDIDATES)
            params += search.candidate_params(where.match)
        return (f" WHERE {' AND '.join(sql)}" if sql else ""), params

    def count(self, query: EventQuery) -> int:
        """How many events match (raises FilterError for a bad filter)."""
        return self._count(query, self._prepare(query), parallel=False)

    @_damage_told
    def _count(self, query: EventQuery, prepared: Prepared, parallel: bool) -> int:
        """Count on from the query's remembered count (``counts``), if there is one."""
        key = key_of(query) if self._counting else None
        known = self._counts.get(key, query.upto_id) if key is not None else None
        for start in (known, None) if known else (None,):
            total = self._count_from(query, prepared, key, start, parallel)
            if total is not None:
                return total
        # events are being deleted: no remembering
        return self._count_snapshot(query, prepared)[0]

    def _count_from(
        self,
        query: EventQuery,
        prepared: Prepared,
        key: EventQuery | None,
        known: Counted | None,
        parallel: bool,
    ) -> int | None:
        """The count of ``query``: ``known`` plus the events after it, remembered under
        ``key`` (None: not remembered). With ``parallel``, a text filter over a long range
        is counted in two halves at once (it reads every candidate row). None if an event
        was deleted meanwhile."""
        rest = query if known is None else replace(query, after_id=known.upto)
        parts = [rest]
        if parallel and query.text.strip():
            low = rest.after_id or 0
            newest = self.max_event_id()  # the lower half is all stored already
            high = newest if query.upto_id is None else min(query.upto_id, newest)
            if high - low > 2 * ANCHOR_EVERY:
                middle = (low + high) // 2
                parts = [replace(rest, upto_id=middle), replace(rest, after_id=middle)]
        if len(parts) == 1:
            results = [self._count_snapshot(rest, prepared)]
        else:
            futures = [self._pool.submit(self._count_snapshot, part, prepared) for part in parts]
            results = [f.result() for f in futures]
        deletions = {r[2] for r in results} | ({known.deletions} if known else set())
        if len(deletions) != 1:
            return None
        total = (known.count if known else 0) + sum(r[0] for r in results)
        done = deletions.pop()
        if key is not None and done is not None:
            top = results[-1][1]
            upto = top if query.upto_id is None else min(query.upto_id, top)
            self._counts.put(key, Counted(upto, total, done))
        return total

    def _count_snapshot(self, query: EventQuery, prepared: Prepared) -> tuple[int, int, int | None]:
        """How many events match, the newest id and the deletion count, all seen in one
        snapshot of the database (one statement)."""
        clause, params = self._clause(self._where(query, prepared))
        deletions = "(SELECT deletions FROM store_meta)" if self._counting else "NULL"
        row = self._read(
            f"SELECT count(*), (SELECT coalesce(max(id), 0) FROM events), {deletions} "
            f"FROM events e{clause}",
            params,
        )[0]
        return int(row[0]), int(row[1]), row[2]

    def fetch(
        self,
        query: EventQuery,
        offset: int = 0,
        limit: int = 100,
        sort: str = "id",
        descending: bool = False,
        with_raw: bool = False,
    ) -> list[EventRow]:
        """A window of matching events in the given order (ties by storage order)."""
        return self._fetch(query, self._prepare(query), offset, limit, sort, descending, with_raw)

    @_damage_told
    def _fetch(
        self,
        query: EventQuery,
        prepared: Prepared,
        offset: int,
        limit: int,
        sort: str,
        descending: bool,
        with_raw: bool = False,
    ) -> list[EventRow]:
        order = f"{SORT_COLUMNS[sort]} {'DESC' if descending else 'ASC'}"
        order += f", e.id {'DESC' if descending else 'ASC'}"
        in_id_order = sort == "id" and not descending
        where = self._where(query, prepared)
        start_id = 0
        if in_id_order and offset >= ANCHOR_EVERY:
            start_id, offset = self._anchor(where, offset)
        # Find the window's ids first (an index-only scan where possible), then the rows.
        if where.match is not None and in_id_order:
            ids, params = search.first_ids(
                where.sql, where.params, where.match, offset + limit, start_id - 1
            )
        else:
            if start_id:
                where = where.and_also("+e.id >= ?" if where.indexed else "e.id >= ?", start_id)
            clause, params = self._clause(where)
            ids = f"SELECT e.id FROM events e{clause} ORDER BY {order}"
        columns = _ROW_COLUMNS + (", e.raw" if with_raw else "")
        rows = self._read(
            f"SELECT {columns} FROM events e WHERE e.id IN ({ids} LIMIT ? OFFSET ?) "
            f"ORDER BY {order}",
            [*params, limit, offset],
        )
        return [EventRow(*r) for r in rows]

    def compile(self, query: EventQuery) -> CompiledQuery:
        """``query`` parsed and planned once, to count it and read windows of it (a table
        refresh asks for several). Raises FilterError for a bad filter, here."""
        return CompiledQuery(self, query, self._prepare(query))

    def count_and_fetch(
        self, query: EventQuery, limit: int = 100, sort: str = "id", descending: bool = False
    ) -> tuple[int, list[EventRow]]:
        """How many events match, and the first window (``CompiledQuery.count_and_fetch``)."""
        return self.compile(query).count_and_fetch(limit, sort, descending)

    @_damage_told
    def _count_and_fetch(
        self, query: EventQuery, prepared: Prepared, limit: int, sort: str, descending: bool
    ) -> tuple[int, list[EventRow]]:
        with self._queries_lock:
            self._queries += 1
        try:
            rows = self._pool.submit(self._fetch, query, prepared, 0, limit, sort, descending)
            return self._count(query, prepared, parallel=True), rows.result()
        finally:
            with self._queries_lock:
                self._queries -= 1

    def _anchor(self, where: Compiled, offset: int) -> tuple[int, int]:
        """The id at the nearest remembered offset at or before ``offset``, and how many
        rows remain to skip from it. Remembering every ANCHOR_EVERY-th id of a query (found
        with one index scan, extended as rows arrive) turns "row 900,000" into a seek plus
        a short skip. New rows only append to the ascending order; deletes forget all."""
        key = (tuple(where.sql), tuple(where.params), where.match)
        deletions = self._deletions()
        with self._anchor_lock:
            if deletions != self._anchors_deletions:
                self._anchors.clear()
                self._anchors_deletions = deletions
            anchors = self._anchors.pop(key, None) or []
            self._anchors[key] = anchors  # most recently used last
            while len(self._anchors) > MAX_ANCHORED_QUERIES:
                self._anchors.pop(next(iter(self._anchors)))
            wanted = offset // ANCHOR_EVERY
            if wanted >= len(anchors):
                extra = where
                if anchors:
                    extra = where.and_also(
                        "+e.id >= ?" if where.indexed else "e.id >= ?", anchors[-1]
                    )
                clause, params = self._clause(extra)
                cursor = self._reader_conn().execute(
                    f"SELECT e.id FROM events e{clause} ORDER BY e.id", params
                )
                skip_first = bool(anchors)  # the scan starts at the last anchor itself
                for position, (row_id,) in enumerate(cursor):
                    if position % ANCHOR_EVERY == 0 and not (skip_first and position == 0):
                        anchors.append(row_id)
                        if len(anchors) > wanted:
                            break
                cursor.close()
            if not anchors:
                return 0, offset
            index = min(wanted, len(anchors) - 1)
            return anchors[index], offset - index * ANCHOR_EVERY

    def _deletions(self) -> int | None:
        """How many events were ever deleted from this file (None: an older schema)."""
        if not self._counting:
            return None
        return int(self._read("SELECT deletions FROM store_meta")[0][0])

    def clear_caches(self) -> None:
        """Forget remembered counts, windows and search plans (benchmarks time cold
        queries with it; answers never depend on them)."""
        self._counts.clear()
        with self._anchor_lock:
            self._anchors.clear()
        with self._plan_lock:
            self._sampled = (-1, [])
            self._plans.clear()

    def event(self, event_id: int) -> EventRow | None:
        rows = self._read(f"SELECT {_ROW_COLUMNS}, e.raw FROM events e WHERE e.id = ?", (event_id,))
        return EventRow(*rows[0]) if rows else None

    def iter_values(self, query: EventQuery, expression: str, batch: int = 4000) -> Iterator[str]:
        """One text value per matching event, in storage order, in constant memory.

        ``expression`` is a constant SQL expression over the table alias ``e`` written in
        this package (the export record), never text from a user.
        """
        for attempt in (1, 2):
            clause, params = self._clause(self._where(query))
            conn = self._connect(sqlite_uri(self.path, read_only=True), uri=True)
            yielded = False
            try:
                cursor = conn.execute(
                    f"SELECT {expression} FROM events e{clause} ORDER BY e.id", params
                )
                while chunk := cursor.fetchmany(batch):
                    for (value,) in chunk:
                        yielded = True
                        yield value
                return
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    raise self._damaged(exc) from exc
                if yielded or attempt == 2 or not self._met_unreadable_json(exc):
                    raise
            finally:
                conn.close()

    def channel_counts(self, profile_id: int) -> dict[str, int]:
        rows = self._read(
            "SELECT channel, count(*) FROM events WHERE profile_id = ? GROUP BY channel",
            (profile_id,),
        )
        return {r[0]: int(r[1]) for r in rows}

    def max_event_id(self) -> int:
        return int(self._read("SELECT coalesce(max(id), 0) FROM events")[0][0])

    def newest_created(self, profile_id: int, upto_id: int) -> int | None:
        """The newest event time of a profile among events stored up to ``upto_id`` (an
        index walk from the newest end; ms). Any filtered view's newest is no newer."""
        rows = self._read(
            "SELECT created_at FROM events INDEXED BY events_created "
            "WHERE profile_id = ? AND id <= ? ORDER BY created_at DESC LIMIT 1",
            (profile_id, upto_id),
        )
        return int(rows[0][0]) if rows else None
