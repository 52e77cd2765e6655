"""``EventsModel``: a virtual table over the capture store.

It keeps only the row count and a few pages of rows; pages are fetched off the Qt thread
on first display (a placeholder shows meanwhile, only for rows never fetched). New events
are appended in batches when the store reports them: their rows are fetched before they
are inserted, and rows already on screen stay until their replacement is in hand, so
live traffic never blanks the table.

The default order is by event time (ties by arrival): replayed events land where they
belong in time, not at the bottom. New rows that are not the newest (a replay) make the
model read its window again instead of appending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication

from sfmonitor.store import CaptureStore, CompiledQuery, EventQuery, EventRow, FilterError

from .palette import MUTED
from .worker import Worker

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Time", "time"),
    ("Channel", "channel"),
    ("Kind", "kind"),
    ("Replay ID", "replay"),
    ("Type / change", "change"),
    ("Summary", "summary"),
)
KIND_LABELS = {
    "pushtopic": "PushTopic",
    "platform_event": "Platform event",
    "change_event": "Change event",
    "generic": "Generic",
    "monitoring": "Monitoring",
    "unknown": "Unknown",
    "gap": "GAP",
}
PAGE = 200
MAX_PAGES = 40
LOADING = "…"
GAP_LIGHT = QBrush(QColor("#fde2e1"))
GAP_DARK = QBrush(QColor("#5c1f1f"))
STALE = QBrush(QColor(MUTED))
TAIL_PAGES = 2  # pages fetched with new rows, and before a reset when following


def gap_brush() -> QBrush:
    """A gap row's background, readable in the light and the dark scheme."""
    dark = QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return GAP_DARK if dark else GAP_LIGHT


def time_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M:%S.%f")[:-3]


class EventsModel(QAbstractTableModel):
    """Rows of ``query`` in the chosen order; ``refresh()`` after changing it."""

    count_changed = Signal(int)
    filter_error = Signal(str)  # "" when the filter is fine
    rows_appended = Signal(int)

    def __init__(self, store: CaptureStore, worker: Worker) -> None:
        super().__init__()
        self.store = store
        self.worker = worker
        self.query = EventQuery(profile_id=-1)  # nothing until a profile is shown
        self.sort_key = "time"
        self.descending = False
        self.following: Callable[[], bool] = lambda: False  # the view shows the newest rows
        self.stale = False  # the rows are those of the last valid filter
        self._count = 0
        self._pages: OrderedDict[int, list[EventRow]] = OrderedDict()
        self._loading: set[int] = set()
        self._generation = 0
        self._seen_max_id = 0  # every stored row up to this id is counted
        self._last_created: int | None = None  # the newest event time counted (time order)
        self._busy = False
        self._again = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0] if 0 <= section < len(COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        row = self.row_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            if row is None:
                return LOADING
            return self._cell(row, COLUMNS[index.column()][1])
        if row is None:
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 0:
                return datetime.fromtimestamp(row.created_at / 1000).astimezone().isoformat()
            if index.column() == 5:
                return row.summary
        if role == Qt.ItemDataRole.BackgroundRole and row.kind == "gap":
            return gap_brush()
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return STALE
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else "id"
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()

    @staticmethod
    def _cell(row: EventRow, key: str) -> Any:
        if key == "time":
            return time_text(row.created_at)
        if key == "channel":
            return row.channel
        if key == "kind":
            return KIND_LABELS.get(row.kind, row.kind)
        if key == "replay":
            return "" if row.replay_id is None else str(row.replay_id)
        if key == "change":
            return row.change
        return row.summary

    def set_stale(self, stale: bool) -> None:
        """Grey the rows while the filter text is invalid (they match the previous one)."""
        if stale != self.stale:
            self.stale = stale
            if self._count:
                self.dataChanged.emit(
                    self.index(0, 0),
                    self.index(self._count - 1, 0).siblingAtColumn(len(COLUMNS) - 1),
                )

    # --- rows ----------------------------------------------------------------------------

    def row_at(self, number: int) -> EventRow | None:
        """The row if its page is loaded; otherwise None, and the page is requested."""
        page, offset = divmod(number, PAGE)
        rows = self._pages.get(page)
        if rows is not None and offset < len(rows):
            self._pages.move_to_end(page)
            return rows[offset]
        self._request(page)
        return None

    def _request(self, page: int) -> None:
        if page in self._loading:
            return
        self._loading.add(page)
        self._spawn(self._load(page, self._generation))

    def _snapshot(self) -> EventQuery:
        """The query as counted: rows stored since are not in the view yet."""
        return replace(self.query, upto_id=self._seen_max_id)

    def _fetch_page(self, query: CompiledQuery, page: int, count: int) -> list[EventRow]:
        """Page ``page`` of ``count`` rows (worker thread). Deep pages are read backwards
        from the end (a short skip instead of a long one), except in arrival order, where
        the store's anchors make any depth a seek."""
        first = page * PAGE
        n = min(PAGE, count - first)
        if n <= 0:
            return []
        arrival = self.sort_key == "id" and not self.descending
        if first > count // 2 and not arrival:
            rows = query.fetch(count - first - n, n, self.sort_key, not self.descending)
            rows.reverse()
            return rows
        return query.fetch(first, n, self.sort_key, self.descending)

    def _load_page(self, query: EventQuery, page: int, count: int) -> list[EventRow]:
        return self._fetch_page(self.store.compile(query), page, count)

    async def _load(self, page: int, generation: int) -> None:
        try:
            rows = await self.worker.run(self._load_page, self._snapshot(), page, self._count)
        except FilterError:
            return
        finally:
            self._loading.discard(page)
        if generation != self._generation:
            return
        self._store_page(page, rows)
        first = page * PAGE
        last = min(first + len(rows), self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _store_page(self, page: int, rows: list[EventRow]) -> None:
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def _place(self, first: int, rows: list[EventRow]) -> None:
        """Put ``rows`` (rows ``first``.. of the view) into the pages they belong to; a
        page whose head is not known is left to load when shown."""
        for number, row in enumerate(rows, first):
            page, offset = divmod(number, PAGE)
            current = self._pages.get(page)
            if current is None and offset == 0:
                current = []
                self._store_page(page, current)
            if current is None or offset > len(current):
                continue
            if offset == len(current):
                current.append(row)
            else:
                current[offset] = row

    # --- queries -------------------------------------------------------------------------

    def set_query(self, query: EventQuery) -> None:
        self.query = query
        self.set_stale(False)
        self.refresh()

    def refresh(self) -> None:
        """Count and load the rows on screen again (off the Qt thread); what is shown stays
        until the new rows are in hand."""
        self._generation += 1
        self._spawn(self._refresh(self._generation))

    def _pages_to_keep(self, count: int) -> list[int]:
        """Pages to fetch with a refresh: the newest when following, else those in use."""
        last = max(count - 1, 0) // PAGE
        if self.following():
            return list(range(max(last - TAIL_PAGES + 1, 1), last + 1))
        return sorted(p for p in list(self._pages)[-TAIL_PAGES:] if 0 < p <= last)

    def _read_window(self, query: EventQuery) -> tuple[int, dict[int, list[EventRow]], int | None]:
        """Count, the first page, the pages to keep, the newest event time (worker): one
        compiled query for all of them."""
        compiled = self.store.compile(query)
        count, first = compiled.count_and_fetch(PAGE, self.sort_key, self.descending)
        pages = {0: first}
        for page in self._pages_to_keep(count):
            pages[page] = self._fetch_page(compiled, page, count)
        newest = None
        if self.sort_key == "time" and query.profile_id is not None and query.upto_id:
            newest = self.store.newest_created(query.profile_id, query.upto_id)
        return count, pages, newest

    async def _refresh(self, generation: int) -> None:
        try:
            top = await self.worker.run(self.store.max_event_id)
            query = replace(self.query, upto_id=top)
            count, pages, newest = await self.worker.run(self._read_window, query)
        except FilterError as exc:
            self.filter_error.emit(str(exc))
            return
        if generation != self._generation:
            return
        self.filter_error.emit("")
        self.beginResetModel()
        self._count = count
        self._pages.clear()
        self._loading.clear()
        self._seen_max_id = top
        self._last_created = newest
        for page, rows in sorted(pages.items()):
            if rows:
                self._store_page(page, rows)
        self.endResetModel()
        self.count_changed.emit(count)

    def new_rows_stored(self) -> None:
        """The store has new rows: append those that match (coalescing bursts)."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._spawn(self._append())

    def _appends(self) -> bool:
        """New rows go at the end in this order (if they are the newest, for time)."""
        return not self.descending and self.sort_key in ("id", "time")

    def _read_new(self, top: int) -> tuple[int, list[EventRow], int | None]:
        """How many rows arrived up to ``top``, the last few of them in view order, and the
        oldest event time among them (worker)."""
        new = replace(self.query, after_id=self._seen_max_id, upto_id=top)
        added = self.store.count(new)
        if not added or not self._appends():
            return added, [], None
        tail = self.store.fetch(
            new, max(added - TAIL_PAGES * PAGE, 0), TAIL_PAGES * PAGE, self.sort_key
        )
        oldest = self.store.fetch(new, 0, 1, "time")
        return added, tail, oldest[0].created_at if oldest else None

    async def _append(self) -> None:
        try:
            while True:
                self._again = False
                generation = self._generation
                top = await self.worker.run(self.store.max_event_id)
                if top <= self._seen_max_id:
                    break
                try:
                    added, tail, oldest = await self.worker.run(self._read_new, top)
                except FilterError:
                    break
                if generation != self._generation:
                    continue
                if added and self._fits_at_end(oldest):
                    self._seen_max_id = top
                    self._insert_at_end(added, tail)
                elif added:
                    self.refresh()  # rows land inside the order: read the window again
                else:
                    self._seen_max_id = top
                if not self._again:
                    break
        finally:
            self._busy = False

    def _fits_at_end(self, oldest: int | None) -> bool:
        if not self._appends():
            return False
        if self.sort_key == "id" or self._last_created is None or oldest is None:
            return True
        return oldest >= self._last_created

    def _insert_at_end(self, added: int, tail: list[EventRow]) -> None:
        first = self._count
        self.beginInsertRows(QModelIndex(), first, first + added - 1)
        self._count += added
        self._place(first + added - len(tail), tail)
        self.endInsertRows()
        if tail:
            newest = max(row.created_at for row in tail)
            self._last_created = max(newest, self._last_created or newest)
        self.count_changed.emit(self._count)
        self.rows_appended.emit(added)

    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:  # the loop has ended (the window is closing): nothing to load
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("events table: %s", task.exception(), exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for pending loads (tests and ``--self-test``)."""
        while self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._tasks))
