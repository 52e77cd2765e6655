"""The detail pane: the selected event as JSON (pretty or raw, find, the field under the
cursor), and for a change of a record (CDC, PushTopic) what it changed and the record's
history, in tabs that are there only for such events.

The tab a person chose is kept: after a change event shown in "Changes", the next change
event opens there too; an event with no record shows its JSON meanwhile.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget

from sfmonitor.store import CaptureStore

from .cdc_view import CdcLoader
from .json_view import JsonView
from .worker import Worker

NOTHING = "Select an event to see it whole"


class DetailTabs(QTabWidget):
    """``event_requested(id)``: show that event (from the history or a previous value)."""

    event_requested = Signal(object)

    def __init__(self, store: CaptureStore, worker: Worker) -> None:
        super().__init__()
        self.setDocumentMode(True)
        self.json = JsonView()
        self.cdc = CdcLoader(store, worker)
        self.addTab(self.json, "JSON")
        self.changes_tab = self.addTab(self.cdc.changes, "Changes")
        self.history_tab = self.addTab(self.cdc.history, "Record history")
        self._wanted = 0  # the tab last chosen by the person
        self._record = False
        self._show_cdc(False)
        self.currentChanged.connect(self._chosen)
        self.cdc.loaded.connect(self._show_cdc)
        self.cdc.history.event_activated.connect(self.event_requested)
        self.cdc.changes.event_requested.connect(self.event_requested)

    def show_event(self, title: str, raw: str | None, event_id: int | None) -> None:
        self.json.show_event(title, raw)
        self.cdc.show_event(event_id)
        if event_id is None:
            self._show_cdc(False)

    def clear(self) -> None:
        self.show_event(NOTHING, None, None)

    def has_record(self) -> bool:
        return self._record

    def _chosen(self, index: int) -> None:
        if self._record or index == 0:
            self._wanted = index

    def _show_cdc(self, record: bool) -> None:
        """The CDC tabs for an event of a record, the person's tab back if it was one."""
        self._record = record
        wanted = self._wanted
        for tab in (self.changes_tab, self.history_tab):
            self.setTabVisible(tab, record)
        self.setCurrentIndex(wanted if record else 0)
        self._wanted = wanted

    async def settle(self) -> None:
        await self.cdc.settle()
