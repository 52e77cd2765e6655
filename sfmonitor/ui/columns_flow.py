"""The events table's columns: fixed ones and payload fields, chosen per profile.

View → Columns… opens the chooser; "Add as column" in the detail's JSON view adds the
field under the cursor. The columns and their widths are kept per profile (under the
profile's settings prefix, see ``channel_view.profile_key``). A sort by a payload field
reads every matching message: the status bar says "Sorting…" while a slow one runs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer

from sfmonitor.store import Profile

from .channel_view import profile_key
from .column_chooser import (
    ColumnSpec,
    choose_columns,
    columns_from_text,
    columns_to_text,
    fixed_columns,
    with_field,
)
from .field_cells import field_path

if TYPE_CHECKING:
    from .main_window import MainWindow

WIDTHS = {"time": 150, "channel": 200, "kind": 110, "replay": 120, "change": 130, "summary": 420}
FIELD_WIDTH = 130
SLOW_SORT_MS = 150  # a field sort that takes longer says so


class ColumnsFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.specs: list[ColumnSpec] = fixed_columns()
        self.key: str | None = None
        self._widths: dict[str, int] = {}
        self._sorting_text = ""
        self._slow = QTimer(window)
        self._slow.setSingleShot(True)
        self._slow.setInterval(SLOW_SORT_MS)
        self._slow.timeout.connect(self._say_sorting)
        window.model.sorting.connect(self._sorting)
        window.table.horizontalHeader().setStretchLastSection(True)
        window.table.horizontalHeader().sectionResized.connect(self._resized)
        self._apply_widths()

    def show_profile(self, profile: Profile | None) -> None:
        """Another profile on screen: its columns and widths."""
        self.save()
        self.key = profile_key(self.w, profile)
        settings = self.w.settings
        text = settings.value(f"{self.key}/columns") if self.key else None
        widths = settings.value(f"{self.key}/column_widths") if self.key else None
        try:
            loaded = json.loads(widths) if isinstance(widths, str) else {}
        except ValueError:
            loaded = {}
        loaded = loaded if isinstance(loaded, dict) else {}
        self._widths = {str(k): v for k, v in loaded.items() if isinstance(v, int) and v > 0}
        self.apply(columns_from_text(text), persist=False)

    def apply(self, specs: list[ColumnSpec], persist: bool = True) -> None:
        """Show ``specs`` (their visible ones, in order) and keep them for the profile."""
        self.specs = list(specs)
        shown = [(c.title, c.key) for c in specs if c.visible]
        model = self.w.model
        if shown != model.columns:
            model.set_columns(shown)
            self._apply_widths()
            header = self.w.table.horizontalHeader()
            keys = [k for _t, k in shown]
            header.blockSignals(True)  # the model's order as it is: no sort again
            header.setSortIndicator(
                keys.index(model.sort_key) if model.sort_key in keys else -1,
                Qt.SortOrder.DescendingOrder if model.descending else Qt.SortOrder.AscendingOrder,
            )
            header.blockSignals(False)
        if persist and self.key is not None:
            self.w.settings.setValue(f"{self.key}/columns", columns_to_text(self.specs))

    def add_field(self, path: str) -> None:
        """A payload field as a column (shown if it was hidden)."""
        self.apply(with_field(self.specs, path))

    async def choose(self) -> None:
        chosen = await choose_columns(self.w.dialogs, self.specs)
        if chosen is not None:
            self.apply(chosen)

    def save(self) -> None:
        if self.key is not None:
            text = json.dumps(self._widths, sort_keys=True)
            self.w.settings.setValue(f"{self.key}/column_widths", text)

    def _apply_widths(self) -> None:
        table = self.w.table
        last = len(self.w.model.columns) - 1
        for column, (_title, key) in enumerate(self.w.model.columns):
            if column < last:  # the last one stretches
                default = FIELD_WIDTH if field_path(key) is not None else WIDTHS.get(key, 150)
                table.setColumnWidth(column, self._widths.get(key, default))

    def _resized(self, column: int, _old: int, new: int) -> None:
        columns = self.w.model.columns
        if 0 <= column < len(columns) - 1 and new > 0:
            self._widths[columns[column][1]] = new

    # --- "Sorting…" ------------------------------------------------------------------------

    def _sorting(self, running: bool) -> None:
        if running:
            self._slow.start()
            return
        self._slow.stop()
        if self._sorting_text and self.w.status.activity() == self._sorting_text:
            self.w.status.show_activity("")
        self._sorting_text = ""

    def _say_sorting(self) -> None:
        title = next((t for t, k in self.w.model.columns if k == self.w.model.sort_key), "")
        self._sorting_text = f"Sorting by {title}…"
        self.w.status.show_activity(self._sorting_text)
