"""The filter bar: filter text (the store's filter language), kind, time range; invalid
filters are shown inline under the field, never as an exception. A time range dragged on
the timeline is a custom range (from, until), an entry of the range list while it holds."""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from sfmonitor.store.errors import FilterError
from sfmonitor.store.filters import parse

from .events_model import KIND_LABELS
from .theme import colors

RANGES = (
    ("Any time", None),
    ("Last 15 minutes", 15 * 60),
    ("Last hour", 3600),
    ("Last 24 hours", 24 * 3600),
    ("Last 7 days", 7 * 24 * 3600),
)
CUSTOM = "custom"


def range_text(since_ms: int, until_ms: int) -> str:
    """A custom range for the list: "10:02:03 to 10:05:00" (dates when it spans days)."""
    start, end = (datetime.fromtimestamp(ms / 1000) for ms in (since_ms, until_ms))
    if start.date() == end.date():
        return f"{start:%H:%M:%S} to {end:%H:%M:%S}"
    return f"{start:%m-%d %H:%M} to {end:%m-%d %H:%M}"


class FilterBar(QWidget):
    changed = Signal()  # the filter text is valid and something changed
    invalid = Signal(str)  # the text does not parse: the table still shows the last filter

    def __init__(self) -> None:
        super().__init__()
        self.text = QLineEdit()
        self.text.setPlaceholderText(
            "Filter: text, Amount__c > 1000, ChangeEventHeader.changeType = UPDATE, "
            'sobject.Name ~ "Acme"'
        )
        self.text.setClearButtonEnabled(True)
        clear = QAction("Clear the filter", self.text)
        clear.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        clear.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear.triggered.connect(self.text.clear)
        self.text.addAction(clear)
        self.kind = QComboBox()
        self.kind.addItem("All kinds", "")
        for value, label in KIND_LABELS.items():
            if value != "unknown":
                self.kind.addItem(label, value)
        self.range = QComboBox()
        for label, seconds in RANGES:
            self.range.addItem(label, seconds)
        self.error = QLabel()
        self.error.setTextFormat(self.error.textFormat().PlainText)
        self.error.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.kind)
        row.addWidget(self.range)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.restyle()
        self._custom: tuple[int, int] | None = None  # a range dragged on the timeline
        self._applied: tuple[str, int, int, tuple[int, int] | None] = ("", 0, 0, None)
        self._stale = False  # an invalid text is shown over the last valid filter's rows
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._apply)
        self.text.textChanged.connect(lambda _t: self._debounce.start())
        self.kind.currentIndexChanged.connect(lambda _i: self._apply())
        self.range.currentIndexChanged.connect(lambda _i: self._apply())

    def _apply(self) -> None:
        self._debounce.stop()
        try:
            parse(self.text.text())
        except FilterError as exc:
            self.show_error(f"{exc} (the table still shows the last valid filter)")
            self._stale = True
            self.invalid.emit(str(exc))
            return
        self.show_error("")
        if self.range.currentData() != CUSTOM and self._custom is not None:
            self._drop_custom()  # a preset was chosen
        state = (
            self.text.text(),
            self.kind.currentIndex(),
            self.range.currentIndex(),
            self._custom,
        )
        if state != self._applied or self._stale:  # typing and erasing a letter: no rerun
            self._applied = state
            self._stale = False
            self.changed.emit()

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def filter_text(self) -> str:
        return self.text.text()

    def kinds(self) -> frozenset[str]:
        value = self.kind.currentData()
        return frozenset({value}) if value else frozenset()

    def since_ms(self) -> int | None:
        if self._custom is not None:
            return self._custom[0]
        seconds = self.range.currentData()
        return None if seconds is None else int((time.time() - seconds) * 1000)

    def until_ms(self) -> int | None:
        """The end of a custom range (exclusive); None for the presets."""
        return self._custom[1] if self._custom is not None else None

    def custom_range(self) -> tuple[int, int] | None:
        return self._custom

    def set_custom_range(self, since_ms: int, until_ms: int) -> None:
        """A range chosen on the timeline: shown as the current entry, applied at once."""
        self._custom = (since_ms, max(until_ms, since_ms + 1))
        index = self.range.findData(CUSTOM)
        if index < 0:
            self.range.addItem("", CUSTOM)
            index = self.range.count() - 1
        self.range.setItemText(index, range_text(*self._custom))
        self.range.blockSignals(True)
        self.range.setCurrentIndex(index)
        self.range.blockSignals(False)
        self._apply()

    def clear_custom_range(self) -> None:
        """Back to "Any time" (the timeline's selection was cleared)."""
        if self._custom is not None:
            self.range.setCurrentIndex(0)  # applies, which drops the custom entry

    def _drop_custom(self) -> None:
        self._custom = None
        index = self.range.findData(CUSTOM)
        if index >= 0:
            self.range.blockSignals(True)
            self.range.removeItem(index)
            self.range.blockSignals(False)

    def restyle(self) -> None:
        """The error's colour in the scheme on screen (after a theme change)."""
        self.error.setStyleSheet(f"color: {colors().error}")
