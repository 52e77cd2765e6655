"""``EventsModel``: a virtual table over the capture store.

It keeps only the row count and a few pages of rows; pages are fetched off the Qt thread
on first display (a placeholder shows meanwhile, only for rows never fetched). New events
are appended in batches when the store reports them: their rows are fetched before they
are inserted, and rows already on screen stay until their replacement is in hand, so
live traffic never blanks the table.

The default order is by event time (ties by arrival): replayed events land where they
belong in time, not at the bottom. New rows that are not the newest (a replay) make the
model read its window again instead of appending.

Columns are the fixed ones (``COLUMNS``) and payload fields (``field_cells``), in the order
``set_columns`` gives; any of them sorts through the store. A sort by a payload field reads
every matching message, so ``sorting`` says while one runs, and live traffic re-sorts at
most every few seconds instead of on every batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QIcon

from sfmonitor.store import CaptureStore, CompiledQuery, EventQuery, EventRow, FilterError

from .channel_colors import ChannelColors, chip_icon
from .field_cells import FieldCells, field_path, first_window, window
from .pages import PAGE, Pages
from .theme import colors
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
LOADING = "…"
TAIL_PAGES = 2  # pages fetched with new rows, and before a reset when following
RESORT_MS = 2000  # live traffic re-sorts a field order at most this often (or 3x its time)


def gap_brush() -> QBrush:
    """A gap row's background, in the scheme on screen."""
    return QBrush(QColor(colors().gap_background))


def time_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M:%S.%f")[:-3]


class EventsModel(QAbstractTableModel):
    """Rows of ``query`` in the chosen order; ``refresh()`` after changing it."""

    count_changed = Signal(int)
    filter_error = Signal(str)  # "" when the filter is fine
    rows_appended = Signal(int)
    sorting = Signal(bool)  # a read ordered by a payload field runs (True) or ended

    def __init__(
        self, store: CaptureStore, worker: Worker, palette: ChannelColors | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.worker = worker
        self.columns: list[tuple[str, str]] = list(COLUMNS)  # (title, key) shown
        self.fields = FieldCells(store)
        self.palette_ = palette or ChannelColors()
        self.palette_.changed.connect(self.colors_changed)
        self._chips: dict[str, QIcon] = {}
        self._field_sorts = 0  # field-ordered reads running
        self._sort_seconds = 0.0  # how long the last one took
        self._resort = QTimer(self)
        self._resort.setSingleShot(True)
        self._resort.timeout.connect(self.refresh)
        self.query = EventQuery(profile_id=-1)  # nothing until a profile is shown
        self.sort_key = "time"
        self.descending = False
        self.following: Callable[[], bool] = lambda: False  # the view shows the newest rows
        self.stale = False  # the rows are those of the last valid filter
        self._count = 0
        self._pages = Pages(on_evict=self.fields.forget)
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
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][0] if 0 <= section < len(self.columns) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        row = self.row_at(index.row())
        column = index.column()
        key = self.columns[column][1] if column < len(self.columns) else ""
        if role == Qt.ItemDataRole.DisplayRole:
            if row is None:
                return LOADING
            return self._cell(row, key, column)
        if row is None:
            return None
        if role == Qt.ItemDataRole.DecorationRole and key == "channel":
            return self._chip(row.channel)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "time":
                return datetime.fromtimestamp(row.created_at / 1000).astimezone().isoformat()
            if key == "summary":
                return row.summary
        if role == Qt.ItemDataRole.BackgroundRole and row.kind == "gap":
            return gap_brush()
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return QBrush(QColor(colors().muted))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_key = self.columns[column][1] if 0 <= column < len(self.columns) else "id"
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()

    def set_columns(self, columns: list[tuple[str, str]]) -> None:
        """The columns to show, (title, key) each: a key of ``COLUMNS`` or
        ``field:<path>``. A sort by a column no longer shown goes back to time."""
        self.beginResetModel()
        self.columns = list(columns)
        self.fields.set_paths([p for _t, k in columns if (p := field_path(k)) is not None])
        if self.sort_key not in {k for _t, k in columns} | {"id", "time"}:
            self.sort_key, self.descending = "time", False
        self.endResetModel()
        self.refresh()

    def _chip(self, channel: str) -> QIcon:
        icon = self._chips.get(channel)
        if icon is None:
            icon = self._chips[channel] = chip_icon(self.palette_.color(channel))
        return icon

    def colors_changed(self) -> None:
        """Channel colours or the theme changed: chips and gap rows again."""
        self._chips.clear()
        if self._count:
            last = self.index(self._count - 1, len(self.columns) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def _cell(self, row: EventRow, key: str, column: int) -> Any:
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
        if key == "summary":
            return row.summary
        paths = self.fields.paths
        path = field_path(key)
        return self.fields.text(row.id, paths.index(path)) if path in paths else ""

    def set_stale(self, stale: bool) -> None:
        """Grey the rows while the filter text is invalid (they match the previous one)."""
        if stale != self.stale:
            self.stale = stale
            if self._count:
                self.dataChanged.emit(
                    self.index(0, 0),
                    self.index(self._count - 1, 0).siblingAtColumn(len(self.columns) - 1),
                )

    # --- rows ----------------------------------------------------------------------------

    def row_at(self, number: int) -> EventRow | None:
        """The row if its page is loaded; otherwise None, and the page is requested."""
        row = self._pages.row(number)
        if row is None:
            self._request(number // PAGE)
        return row

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
            rows = window(
                self.store, query, self.sort_key, count - first - n, n, not self.descending
            )
            rows.reverse()
            return rows
        return window(self.store, query, self.sort_key, first, n, self.descending)

    def _load_page(
        self, query: EventQuery, page: int, count: int, paths: list[str]
    ) -> tuple[list[EventRow], dict[int, list[Any]]]:
        rows = self._fetch_page(self.store.compile(query), page, count)
        return rows, self.fields.read(paths, rows)

    async def _load(self, page: int, generation: int) -> None:
        paths = self.fields.paths
        try:
            rows, values = await self.worker.run(
                self._load_page, self._snapshot(), page, self._count, paths
            )
        except FilterError:
            return
        finally:
            self._loading.discard(page)
        if generation != self._generation:
            return
        self.fields.keep(values, paths)
        self._pages.store(page, rows)
        first = page * PAGE
        last = min(first + len(rows), self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))

    def row_of(self, event_id: int) -> int | None:
        """The row number of an event among the rows held (None: not held)."""
        return self._pages.row_of(event_id)

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
        return sorted(p for p in self._pages.recent(TAIL_PAGES) if 0 < p <= last)

    def _read_window(
        self, query: EventQuery, paths: list[str]
    ) -> tuple[int, dict[int, list[EventRow]], int | None, dict[int, list[Any]]]:
        """Count, the first page, the pages to keep, the newest event time and the field
        values (worker): one compiled query for all of them."""
        compiled = self.store.compile(query)
        count, first = first_window(self.store, compiled, self.sort_key, PAGE, self.descending)
        pages = {0: first}
        for page in self._pages_to_keep(count):
            pages[page] = self._fetch_page(compiled, page, count)
        newest = None
        if self.sort_key == "time" and query.profile_id is not None and query.upto_id:
            newest = self.store.newest_created(query.profile_id, query.upto_id)
        values = self.fields.read(paths, (row for rows in pages.values() for row in rows))
        return count, pages, newest, values

    async def _refresh(self, generation: int) -> None:
        paths, by_field = self.fields.paths, field_path(self.sort_key) is not None
        started = time.monotonic()
        self._sorting(+1 if by_field else 0)
        try:
            top = await self.worker.run(self.store.max_event_id)
            query = replace(self.query, upto_id=top)
            count, pages, newest, values = await self.worker.run(self._read_window, query, paths)
        except FilterError as exc:
            self.filter_error.emit(str(exc))
            return
        finally:
            self._sorting(-1 if by_field else 0)
        if by_field:
            self._sort_seconds = time.monotonic() - started
        if generation != self._generation:
            return
        self.filter_error.emit("")
        self.beginResetModel()
        self._count = count
        self._pages.clear()
        self.fields.clear()
        self.fields.keep(values, paths)
        self._loading.clear()
        self._seen_max_id = top
        self._last_created = newest
        for page, rows in sorted(pages.items()):
            if rows:
                self._pages.store(page, rows)
        self.endResetModel()
        self.count_changed.emit(count)

    def _sorting(self, step: int) -> None:
        before = self._field_sorts
        self._field_sorts += step
        if bool(before) != bool(self._field_sorts):
            self.sorting.emit(bool(self._field_sorts))

    def _resort_later(self) -> None:
        """New rows inside a field order: read it again, but not on every batch."""
        if not self._resort.isActive():
            self._resort.start(max(RESORT_MS, int(self._sort_seconds * 3000)))

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

    def _read_new(
        self, top: int, paths: list[str]
    ) -> tuple[int, list[EventRow], int | None, dict[int, list[Any]]]:
        """How many rows arrived up to ``top``, the last few of them in view order, the
        oldest event time among them, and their field values (worker)."""
        new = replace(self.query, after_id=self._seen_max_id, upto_id=top)
        added = self.store.count(new)
        if not added or not self._appends():
            return added, [], None, {}
        tail = self.store.fetch(
            new, max(added - TAIL_PAGES * PAGE, 0), TAIL_PAGES * PAGE, self.sort_key
        )
        oldest = self.store.fetch(new, 0, 1, "time")
        values = self.fields.read(paths, tail)
        return added, tail, oldest[0].created_at if oldest else None, values

    async def _append(self) -> None:
        try:
            while True:
                self._again = False
                generation = self._generation
                top = await self.worker.run(self.store.max_event_id)
                if top <= self._seen_max_id:
                    break
                paths = self.fields.paths
                try:
                    added, tail, oldest, values = await self.worker.run(self._read_new, top, paths)
                except FilterError:
                    break
                if generation != self._generation:
                    continue
                if added and self._fits_at_end(oldest):
                    self._seen_max_id = top
                    self.fields.keep(values, paths)
                    self._insert_at_end(added, tail)
                elif added and field_path(self.sort_key) is not None:
                    self._resort_later()
                    break
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
        self._pages.place(first + added - len(tail), tail)
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
