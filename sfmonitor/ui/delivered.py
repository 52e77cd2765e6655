"""Find a published event when it arrives, by the EventUuid Salesforce answered the publish
with (``OPERATION_ENQUEUED``), and select it in the table: the row scrolls into view, the
view pauses there (Resume view, or the "N new" badge, goes back to the newest) and the
detail pane shows it.

The table is a window over the store, so only the rows near its end (where a new event
lands in time order) are looked at, each time rows arrive or a page loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

if TYPE_CHECKING:
    from .main_window import MainWindow

LOOK_BACK = 300  # rows from the end of the table
WAIT_MS = 120_000


class DeliveredHighlight:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.expected: tuple[str, str] | None = None  # channel, EventUuid
        self.found_row: int | None = None
        self._give_up = QTimer(window)
        self._give_up.setSingleShot(True)
        self._give_up.setInterval(WAIT_MS)
        self._give_up.timeout.connect(self._not_seen)
        model = window.model
        model.rows_appended.connect(lambda _n: self.look())
        model.dataChanged.connect(lambda *_: self.look())
        model.modelReset.connect(self.look)
        window.controller.events_stored.connect(lambda _n: self.look())

    def expect(self, channel: str, event_uuid: str) -> None:
        self.expected = (channel, event_uuid)
        self.found_row = None
        self._give_up.start()
        self.look()

    def look(self) -> None:
        if self.expected is None:
            return
        channel, uuid = self.expected
        model = self.w.model
        count = model.rowCount()
        for number in range(count - 1, max(count - 1 - LOOK_BACK, -1), -1):
            row = model.row_at(number)
            if row is not None and row.event_uuid == uuid and row.channel == channel:
                self._found(number, row.replay_id)
                return

    def _found(self, number: int, replay_id: int | None) -> None:
        assert self.expected is not None
        channel, _uuid = self.expected
        self.expected = None
        self.found_row = number
        self._give_up.stop()
        self.w.pause_action.setChecked(True)  # live traffic must not scroll it away again
        table = self.w.table
        table.selectRow(number)
        table.scrollTo(self.w.model.index(number, 0))
        rid = f" as replay id {replay_id}" if replay_id is not None else ""
        self.w.status.show_activity(f"Delivered on {channel}{rid}: selected in the table")

    def _not_seen(self) -> None:
        if self.expected is not None:
            channel, uuid = self.expected
            self.expected = None
            self.w.status.show_activity(
                f"EventUuid {uuid} not seen on {channel} in the table within "
                f"{WAIT_MS // 60_000} minutes (a filter may hide it)"
            )
