"""What issue 18 adds to the window, wired in one place: channel colours, rates, hidden
channels and unread counts (``channel_view``), payload fields as columns (``columns_flow``),
the timeline strip (``timeline_flow``), the detail's tabs (JSON, changes, record history)
and the View and Help menus (``view_menus``).

``main_window`` makes the widgets and calls ``Looks`` at the few moments that matter to
it (a profile shown, the counts read each second, events stored, the query built,
closing); everything else is connected here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from sfmonitor.store import EventQuery, Profile

from .channel_view import ChannelView
from .columns_flow import ColumnsFlow
from .timeline_flow import TimelineFlow
from .view_menus import ViewMenus

if TYPE_CHECKING:
    from .main_window import MainWindow


class Looks:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.channels = ChannelView(window, window.channel_colors)
        self.columns = ColumnsFlow(window)
        self.timeline = TimelineFlow(window)
        self.menus = ViewMenus(window, self.columns)
        sidebar, detail = window.sidebar, window.detail
        sidebar.hide_requested.connect(self.channels.set_hidden)
        sidebar.color_requested.connect(self.channels.choose_color)
        sidebar.channels_changed.connect(self.channels.channels_changed)
        detail.json.add_column_requested.connect(self.columns.add_field)
        detail.event_requested.connect(lambda event_id: window.tasks.spawn(self.show(event_id)))
        detail.json.find_action.setEnabled(False)  # the window's Find routes (no ambiguity)

    def show_profile(self, profile: Profile | None, channels: list[str]) -> None:
        """Another profile on screen: its colours, hidden channels, columns, timeline."""
        self.channels.show_profile(profile, channels)
        self.columns.show_profile(profile)
        self.w.timeline.set_profile(profile.id if profile is not None else None)

    def query(self, query: EventQuery) -> EventQuery:
        """The table's query with the hidden channels left out and a dragged range's end."""
        return replace(
            query,
            exclude_channels=self.channels.excluded(),
            until_ms=self.w.filter_bar.until_ms(),
        )

    def tick(self, counts: dict[str, int]) -> None:
        self.channels.tick(counts)

    def events_stored(self) -> None:
        self.w.timeline.new_events()

    def find(self) -> None:
        """Find (Ctrl+F): in the JSON when the focus is in the detail pane, else the filter."""
        focus = QApplication.focusWidget()
        json = self.w.detail.json
        if focus is not None and (focus is json or json.isAncestorOf(focus)):
            json.open_find()
        else:
            self.w.filter_bar.text.setFocus()

    def save(self) -> None:
        self.channels.save()
        self.columns.save()

    async def show(self, event_id: int) -> None:
        """An event asked for from the detail (the record's history, a previous value):
        selected in the table if it holds it, else shown in the detail alone."""
        w = self.w
        row = w.model.row_of(event_id)
        if row is not None:
            w.pause_action.setChecked(True)  # live traffic must not scroll it away
            w.table.selectRow(row)
            return
        await w.show_detail(event_id)
