"""The timeline strip and the table: a range dragged on the strip is the filter's time
range (a custom range of the filter bar; Esc on the strip or another range in the bar
clears it), a click jumps the table to that time (pausing the view there), and the strip
follows the profile on screen, its hidden channels and live traffic.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView

if TYPE_CHECKING:
    from .main_window import MainWindow


class TimelineFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        strip = window.timeline
        strip.range_selected.connect(window.filter_bar.set_custom_range)
        strip.selection_cleared.connect(window.filter_bar.clear_custom_range)
        strip.time_clicked.connect(lambda ms: window.tasks.spawn(self.jump_to(ms)))
        window.filter_bar.changed.connect(self._filter_changed)

    def _filter_changed(self) -> None:
        """A preset range (or none) chosen in the filter bar: the strip's range goes."""
        chosen = self.w.filter_bar.custom_range()
        self.w.timeline.set_selection(*(chosen or (None, None)))

    async def jump_to(self, ms: int) -> int | None:
        """Show the first event at or after ``ms`` (time order; the view pauses there so
        that live traffic does not scroll it away). The row, or None with no rows."""
        w, model = self.w, self.w.model
        w.pause_action.setChecked(True)
        if model.sort_key != "time":
            self._sort_by_time()
        await model.settle()
        query = model._snapshot()
        if model.descending:  # newest first: the rows after ``ms`` come before it
            since = ms if query.since_ms is None else max(query.since_ms, ms)
            row = await w.worker.run(w.store.count, replace(query, since_ms=since))
            row = max(row - 1, 0)
        else:
            until = ms if query.until_ms is None else min(query.until_ms, ms)
            row = await w.worker.run(w.store.count, replace(query, until_ms=until))
        if model.rowCount() == 0:
            return None
        row = min(row, model.rowCount() - 1)
        model.row_at(row)  # its page, before it is selected (the detail shows it)
        await model.settle()
        w.table.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)
        w.table.selectRow(row)
        return row

    def _sort_by_time(self) -> None:
        model = self.w.model
        keys = [key for _title, key in model.columns]
        if "time" in keys:  # as a click on its header would
            self.w.table.sortByColumn(keys.index("time"), Qt.SortOrder.AscendingOrder)
            return
        header = self.w.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)
        model.sort_key, model.descending = "time", False
        model.refresh()
