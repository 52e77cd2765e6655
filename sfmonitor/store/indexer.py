"""The search index behind the queries: how far it has got, the planner's sample and
plans (which trigrams narrow a text filter), and the background thread keeping the index
close behind ingest. ``CaptureStore`` inherits these (through ``EventQueries``)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from . import search
from .models import EventQuery

INDEX_CHUNK = 1000  # events indexed per transaction, between ingests
INDEX_YIELD = 19.0  # during a flood, the indexer rests 19x as long as it worked
FLOOD_BATCH = 2000  # an ingest of this many events at once means a flood


class SearchIndexing:
    """Plans over the search index, and its upkeep."""

    _searchable: bool
    _plan_lock: threading.Lock
    _plans: dict[tuple[str, ...], str | None]
    _sampled: tuple[int, list[str]]
    _queries: int
    _stopping: threading.Event
    _new_rows: threading.Event
    _last_ingest: float
    _last_batch: int

    if TYPE_CHECKING:

        def _reader_conn(self) -> sqlite3.Connection: ...

        def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

        def max_event_id(self) -> int: ...

    def _progress(self) -> tuple[int, int]:
        """The newest event id, and the highest one the search index has reached."""
        if not self._searchable:
            return self.max_event_id(), 0
        return search.progress(self._reader_conn())

    def _sample(self, newest: int) -> list[str]:
        """The planner's sample of the events (``search.sample``), taken again when the
        capture doubles in size: how common a text is changes slowly, and every window
        asks."""
        with self._plan_lock:
            if self._sampled[0] != newest.bit_length():
                self._sampled = (newest.bit_length(), search.sample(self._reader_conn(), newest))
                self._plans.clear()
            return self._sampled[1]

    def _plan(
        self,
        texts: tuple[str, ...],
        query: EventQuery,
        newest: int,
        indexed: int,
        samples: list[str],
    ) -> str | None:
        """The search index's query for these texts, or None to scan: the query spans
        few events (a live update), the index is far behind, or the texts are common."""
        high = newest if query.upto_id is None else min(query.upto_id, newest)
        if high - (query.after_id or 0) <= search.FEW_EVENTS:
            return None
        if newest - indexed > search.MAX_UNINDEXED:
            return None
        with self._plan_lock:
            if samples is not self._sampled[1]:  # a new sample came meanwhile
                return search.plan(samples, list(texts))
            if texts not in self._plans:
                if len(self._plans) > 256:
                    self._plans.clear()
                self._plans[texts] = search.plan(samples, list(texts))
            return self._plans[texts]

    def index_pending(self, limit: int = INDEX_CHUNK) -> int:
        """Index up to ``limit`` events the search index has not reached; 0 when caught up.
        The background indexer calls this; tests call it to control how far it got."""
        if not self._searchable:
            return 0
        with self._transaction() as conn:
            return search.index_some(conn, limit)

    def _index_in_background(self) -> None:
        """Keep the index close behind ingest, giving way to it and to searches: while
        events flow it takes half of the writer's time (a twentieth during a flood), all of
        it once they stop, and none while a search runs."""
        while not self._stopping.is_set():
            while self._queries and not self._stopping.is_set():
                self._stopping.wait(0.02)
            started = time.monotonic()
            try:
                done = self.index_pending()
            except sqlite3.Error:
                done = 0  # e.g. disk full: queries still scan; try again later
            if not done:
                self._new_rows.wait(1.0)
                self._new_rows.clear()
            elif time.monotonic() - self._last_ingest < 1.0:
                rest = INDEX_YIELD if self._last_batch >= FLOOD_BATCH else 1.0
                self._stopping.wait((time.monotonic() - started) * rest)
