"""The channel sidebar: status, event count and transport (a badge) per channel; selection
filters the table."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QMenu, QVBoxLayout, QWidget

from .palette import ERROR, LIVE, MUTED, PENDING
from .transport_badge import BADGE_SIZE, badge_icon, transport_label

STATUS_COLORS = {
    "subscribing": PENDING,
    "live": LIVE,
    "error": ERROR,
    "unsubscribed": MUTED,
    "paused": MUTED,
    "offline": MUTED,
}
CHANNEL_ROLE = Qt.ItemDataRole.UserRole


class ChannelSidebar(QWidget):
    """A list of channels. Signals ask the window to act; the sidebar changes no state."""

    selection_changed = Signal(list)  # the selected channels ([] = all)
    remove_requested = Signal(str)
    replay_requested = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("Channels")
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setIconSize(BADGE_SIZE)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemSelectionChanged.connect(lambda: self.selection_changed.emit(self.selected()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        self._status: dict[str, tuple[str, str]] = {}
        self._counts: dict[str, int] = {}
        self._transports: dict[str, str] = {}  # channel -> cometd | pubsub
        self.menu_actions: list[QAction] = []  # the window's, first in the menu
        remove = QAction("Remove channel", self.list)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self._remove_selected)
        self.list.addAction(remove)

    def channels(self) -> list[str]:
        return [self.list.item(i).data(CHANNEL_ROLE) for i in range(self.list.count())]

    def selected(self) -> list[str]:
        return [item.data(CHANNEL_ROLE) for item in self.list.selectedItems()]

    def set_channels(self, channels: list[str], transports: dict[str, str] | None = None) -> None:
        if transports is not None:
            self._transports = dict(transports)
        self.list.clear()
        self._status = {ch: self._status.get(ch, ("offline", "")) for ch in channels}
        for channel in channels:
            item = QListWidgetItem()
            item.setData(CHANNEL_ROLE, channel)
            self.list.addItem(item)
            self._paint(item)

    def add_channel(self, channel: str, transport: str = "cometd") -> None:
        self._transports[channel] = transport
        if channel not in self.channels():
            self.set_channels([*self.channels(), channel])
        else:
            self._repaint(channel)

    def transport(self, channel: str) -> str:
        return self._transports.get(channel, "cometd")

    def set_status(self, channel: str, status: str, error: str = "") -> None:
        self._status[channel] = (status, error)
        self._repaint(channel)

    def set_all_status(self, status: str) -> None:
        for channel in self.channels():
            self._status[channel] = (status, "")
            self._repaint(channel)

    def set_counts(self, counts: dict[str, int]) -> None:
        self._counts = counts
        for channel in self.channels():
            self._repaint(channel)

    def _repaint(self, channel: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(CHANNEL_ROLE) == channel:
                self._paint(item)

    def _paint(self, item: QListWidgetItem) -> None:
        channel = item.data(CHANNEL_ROLE)
        status, error = self._status.get(channel, ("offline", ""))
        count = self._counts.get(channel, 0)
        transport = self.transport(channel)
        item.setText(f"{channel}\n  {status} · {count:,} events")
        item.setIcon(badge_icon(transport))
        item.setForeground(QColor(STATUS_COLORS.get(status, "#24292f")))
        item.setToolTip(
            f"{channel}: {status} (over {transport_label(transport)})"
            + (f"\n{error}" if error else "")
        )

    def _remove_selected(self) -> None:
        for channel in self.selected():
            self.remove_requested.emit(channel)

    def _menu(self, position: QPoint) -> None:
        channels = self.selected()
        if not channels and not self.menu_actions:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addActions(self.menu_actions)
        if channels:
            menu.addSeparator()
            menu.addAction("Replay last 24 hours", lambda: self.replay_requested.emit(channels))
            menu.addSeparator()
            menu.addAction("Remove channel", self._remove_selected)
        menu.popup(self.list.viewport().mapToGlobal(position))  # no nested event loop
