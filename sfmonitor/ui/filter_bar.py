"""The filter bar: filter text (the store's filter language), kind, time range; invalid
filters are shown inline under the field, never as an exception."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from sfmonitor.store.errors import FilterError
from sfmonitor.store.filters import parse

from .events_model import KIND_LABELS
from .palette import ERROR

RANGES = (
    ("Any time", None),
    ("Last 15 minutes", 15 * 60),
    ("Last hour", 3600),
    ("Last 24 hours", 24 * 3600),
    ("Last 7 days", 7 * 24 * 3600),
)


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
        self.error.setStyleSheet(f"color: {ERROR}")
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
        self._applied: tuple[str, int, int] = ("", 0, 0)
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
        state = (self.text.text(), self.kind.currentIndex(), self.range.currentIndex())
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
        seconds = self.range.currentData()
        return None if seconds is None else int((time.time() - seconds) * 1000)
