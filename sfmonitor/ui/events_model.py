"""``EventsModel``: a virtual table over the capture store.

It keeps only the row count and a few pages of rows; pages are fetched off the Qt thread
on first display (a placeholder shows meanwhile). New events are appended in batches when
the store reports them, without re-reading what is already known.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication

from sfmonitor.store import CaptureStore, EventQuery, EventRow, FilterError

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
        self.sort_key = "id"
        self.descending = False
        self._count = 0
        self._pages: OrderedDict[int, list[EventRow]] = OrderedDict()
        self._loading: set[int] = set()
        self._generation = 0
        self._seen_max_id = 0  # every stored row up to this id is counted
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
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1] if 0 <= column < len(COLUMNS) else "id"
        # Time sorts by arrival (the storage order): it is what "chronological" means in a
        # monitor, and new rows can then simply be appended.
        self.sort_key = "id" if key == "time" else key
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

    # --- rows ----------------------------------------------------------------------------

    def row_at(self, number: int) -> EventRow | None:
        """The row if its page is loaded; otherwise None, and the page is requested."""
        page = number // PAGE
        rows = self._pages.get(page)
        if rows is None:
            self._request(page)
            return None
        self._pages.move_to_end(page)
        offset = number - page * PAGE
        return rows[offset] if offset < len(rows) else None

    def _request(self, page: int) -> None:
        if page in self._loading:
            return
        self._loading.add(page)
        self._spawn(self._load(page, self._generation))

    async def _load(self, page: int, generation: int) -> None:
        try:
            rows = await self.worker.run(
                self.store.fetch, self.query, page * PAGE, PAGE, self.sort_key, self.descending
            )
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
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    # --- queries -------------------------------------------------------------------------

    def set_query(self, query: EventQuery) -> None:
        self.query = query
        self.refresh()

    def refresh(self) -> None:
        """Count and load the first page again (off the Qt thread)."""
        self._generation += 1
        self._spawn(self._refresh(self._generation))

    async def _refresh(self, generation: int) -> None:
        try:
            top = await self.worker.run(self.store.max_event_id)
            count, first = await self.worker.run(
                self.store.count_and_fetch,
                replace(self.query, upto_id=top),
                PAGE,
                self.sort_key,
                self.descending,
            )
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
        if first:
            self._store_page(0, first)
        self.endResetModel()
        self.count_changed.emit(count)

    def new_rows_stored(self) -> None:
        """The store has new rows: append those that match (coalescing bursts)."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._spawn(self._append())

    async def _append(self) -> None:
        try:
            while True:
                self._again = False
                generation = self._generation
                top = await self.worker.run(self.store.max_event_id)
                if top <= self._seen_max_id:
                    break
                try:
                    added = await self.worker.run(
                        self.store.count,
                        replace(self.query, after_id=self._seen_max_id, upto_id=top),
                    )
                except FilterError:
                    break
                if generation != self._generation:
                    continue
                self._seen_max_id = top
                if added and (self.sort_key, self.descending) == ("id", False):
                    first = self._count
                    self.beginInsertRows(QModelIndex(), first, first + added - 1)
                    self._count += added
                    # the last page may have been partial: load it again when shown
                    self._pages.pop(first // PAGE, None)
                    self.endInsertRows()
                    self.count_changed.emit(self._count)
                    self.rows_appended.emit(added)
                elif added:
                    self.refresh()  # other orders: new rows land anywhere
                if not self._again:
                    break
        finally:
            self._busy = False

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
