"""Change Data Capture in the detail pane: what a change event changed (changed fields
first, each with the value before where an earlier captured event of the same record
shows it), and the record's history (every captured event of its record ids, in time
order). PushTopic events of a record count too: they carry its fields.

``CdcLoader`` reads both off the Qt thread for the event shown and fills the two views;
``loaded`` says whether the event has a record (the window shows the tabs only then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.store import CaptureStore, EventRow
from sfmonitor.store.record_history import FieldChange, changes_of, history, record_ids

from .events_model import time_text
from .theme import colors
from .worker import Worker

log = logging.getLogger(__name__)
ID_ROLE = Qt.ItemDataRole.UserRole
MAX_VALUE = 300  # characters of a value shown in a cell (the tooltip has it whole)


def value_text(value: Any, limit: int = MAX_VALUE) -> str:
    """A field value in a cell: text as is, JSON otherwise (``null`` for a nulled field)."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Tree(QTreeWidget):
    """A flat, read-only list with columns; ``on_palette`` restyles its rows when the
    theme changes."""

    def __init__(self, headers: list[str], on_palette: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.on_palette = on_palette
        self.setHeaderLabels(headers)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.header().setStretchLastSection(True)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self.on_palette is not None:
            self.on_palette()
        super().changeEvent(event)


class ChangesView(QWidget):
    """The fields of a change: changed ones first, with the value before."""

    event_requested = Signal(object)  # the id of the event a previous value is from

    def __init__(self) -> None:
        super().__init__()
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.tree = _Tree(["Field", "Value", "Before"], self._restyle)
        self.tree.itemActivated.connect(self._activated)
        for column, width in ((0, 200), (1, 220)):
            self.tree.setColumnWidth(column, width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.tree, 1)
        self._changes: list[FieldChange] = []
        self._times: dict[int, int] = {}

    def set_changes(
        self, heading: str, changes: list[FieldChange], times: dict[int, int] | None = None
    ) -> None:
        """``times``: the creation time of the events previous values come from."""
        self.heading.setText(heading)
        self._changes, self._times = changes, times or {}
        self.tree.clear()
        for change in changes:
            before = value_text(change.previous) if change.previous_known else "—"
            item = QTreeWidgetItem([change.field, value_text(change.value), before])
            item.setToolTip(1, value_text(change.value, 5000))
            if change.previous_event_id is not None:
                when = self._times.get(change.previous_event_id)
                shown = f" of {time_text(when)}" if when is not None else ""
                item.setToolTip(2, f"From the event{shown} (double-click to show it)")
                item.setData(2, ID_ROLE, change.previous_event_id)
            else:
                item.setToolTip(2, "No earlier event of this record is captured")
            self.tree.addTopLevelItem(item)
        self._restyle()

    def clear(self, heading: str = "") -> None:
        self.set_changes(heading, [])

    def rows(self) -> list[tuple[str, str, str]]:
        """What the list shows (tests and accessibility)."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [(it.text(0), it.text(1), it.text(2)) for it in items if it is not None]

    def _restyle(self) -> None:
        scheme = colors()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for i, change in enumerate(self._changes):
            item = self.tree.topLevelItem(i)
            if item is None:
                continue
            for column in range(3):
                if change.changed:
                    item.setBackground(column, QBrush(QColor(scheme.changed_background)))
                    item.setForeground(column, QBrush(QColor(scheme.text)))
                else:
                    item.setBackground(column, QBrush())
                    item.setForeground(column, QBrush())
            item.setFont(0, bold if change.changed else self.tree.font())
            if not change.previous_known:
                item.setForeground(2, QBrush(QColor(scheme.muted)))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        event_id = item.data(2, ID_ROLE)
        if event_id is not None:
            self.event_requested.emit(event_id)


class RecordHistoryList(QWidget):
    """Every captured event of a record, in time order; the event shown is in bold."""

    event_activated = Signal(object)  # an event id (int)

    def __init__(self) -> None:
        super().__init__()
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.tree = _Tree(["Time", "Change", "Channel", "Summary"])
        self.tree.itemActivated.connect(
            lambda item, _c: self.event_activated.emit(item.data(0, ID_ROLE))
        )
        for column, width in ((0, 150), (1, 110), (2, 180)):
            self.tree.setColumnWidth(column, width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.tree, 1)

    def set_history(self, ids: list[str], rows: list[EventRow], current: int | None) -> None:
        shown = ", ".join(ids[:3]) + (f" (+{len(ids) - 3})" if len(ids) > 3 else "")
        count = f"{len(rows):,} captured event{'s' if len(rows) != 1 else ''}"
        self.heading.setText(f"Record {shown}: {count}" if ids else "No record")
        self.tree.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for row in rows:
            item = QTreeWidgetItem(
                [time_text(row.created_at), row.change, row.channel, row.summary]
            )
            item.setData(0, ID_ROLE, row.id)
            item.setToolTip(3, row.summary)
            if row.id == current:
                for column in range(4):
                    item.setFont(column, bold)
            self.tree.addTopLevelItem(item)
            if row.id == current:
                self.tree.setCurrentItem(item)
        chosen = self.tree.currentItem()
        if current is not None and chosen is not None:
            self.tree.scrollToItem(chosen)

    def event_ids(self) -> list[int]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [it.data(0, ID_ROLE) for it in items if it is not None]


class CdcLoader(QObject):
    """Fills ``changes`` and ``history`` for the event shown (off the Qt thread)."""

    loaded = Signal(bool)  # the event has a record (CDC or PushTopic) or not

    def __init__(
        self,
        store: CaptureStore,
        worker: Worker,
        changes: ChangesView | None = None,
        history_list: RecordHistoryList | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.worker = worker
        self.changes = changes or ChangesView()
        self.history = history_list or RecordHistoryList()
        self.event_id: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def show_event(self, event_id: int | None) -> None:
        """Load the change and the history of ``event_id`` (None: clear)."""
        self.event_id = event_id
        if event_id is None:
            self._clear("")
            return
        task = asyncio.ensure_future(self._load(event_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _read(
        self, event_id: int
    ) -> tuple[EventRow | None, list[FieldChange] | None, list[str], list[EventRow]]:
        """The event, its changes, its record ids and their history (worker thread)."""
        row = self.store.event(event_id)
        changes = changes_of(self.store, event_id)
        if row is None or changes is None or row.raw is None:
            return row, None, [], []
        ids = record_ids(orjson.loads(row.raw))
        return row, changes, ids, history(self.store, row.profile_id, ids)

    async def _load(self, event_id: int) -> None:
        try:
            row, changes, ids, rows = await self.worker.run(self._read, event_id)
        except Exception as exc:  # a closed or damaged store: say so in the pane
            log.warning("record history not read: %s", exc)
            self._clear(f"Not read: {exc}")
            return
        if event_id != self.event_id:
            return  # another event was chosen meanwhile
        if row is None or changes is None:
            self._clear("Not a change of a record")
            self.loaded.emit(False)
            return
        times = {r.id: r.created_at for r in rows}
        header = f"{row.change or 'Change'} {', '.join(ids[:3])} at {time_text(row.created_at)}"
        changed = sum(c.changed for c in changes)
        heading = f"{header}: {changed} changed field{'s' if changed != 1 else ''}"
        self.changes.set_changes(heading, changes, times)
        self.history.set_history(ids, rows, row.id)
        self.loaded.emit(True)

    def _clear(self, text: str) -> None:
        self.changes.clear(text)
        self.history.set_history([], [], None)

    async def settle(self) -> None:
        """Wait for pending loads (tests)."""
        while self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._tasks))
