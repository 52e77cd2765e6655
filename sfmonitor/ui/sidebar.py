"""The channel sidebar: per channel its colour chip and transport badge, status, event
count, live rate (with a sparkline of the last ten minutes) and unread count; hidden
channels are shown dimmed. Selection filters the table."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QMenu, QVBoxLayout, QWidget

from .channel_colors import ChannelColors, add_color_menu, chip_icon
from .rates import rate_text
from .sparkline import SparklineDelegate, set_item_sparkline
from .theme import Colors, colors
from .transport_badge import BADGE_SIZE, badge_icon, transport_label

CHANNEL_ROLE = Qt.ItemDataRole.UserRole
CHIP = 12
ICON_SIZE = QSize(CHIP + 4 + BADGE_SIZE.width(), BADGE_SIZE.height())
_icons: dict[tuple[str, str, bool], QIcon] = {}


def row_icon(color: QColor, transport: str) -> QIcon:
    """The channel's colour chip beside its transport badge, as one cached icon."""
    key = (color.name(), transport, colors().dark)
    icon = _icons.get(key)
    if icon is None:
        if len(_icons) > 256:
            _icons.clear()
        ratio = 2.0
        pixmap = QPixmap(ICON_SIZE * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        try:
            top = (ICON_SIZE.height() - CHIP) // 2
            chip_icon(color).paint(painter, 0, top, CHIP, CHIP)
            width, height = BADGE_SIZE.width(), BADGE_SIZE.height()
            badge_icon(transport).paint(painter, CHIP + 4, 0, width, height)
        finally:
            painter.end()
        icon = _icons[key] = QIcon(pixmap)
    return icon


def status_color(status: str, scheme: Colors) -> str:
    """A channel status's colour in ``scheme`` (readable on its background)."""
    return {
        "subscribing": scheme.pending,
        "live": scheme.live,
        "error": scheme.error,
    }.get(status, scheme.muted if status in ("unsubscribed", "paused", "offline") else scheme.text)


class ChannelSidebar(QWidget):
    """A list of channels. Signals ask the window to act; the sidebar changes no state."""

    selection_changed = Signal(list)  # the selected channels ([] = all)
    remove_requested = Signal(str)
    replay_requested = Signal(list)
    hide_requested = Signal(list, bool)  # channels, hide (True) or show again (False)
    color_requested = Signal(str)  # "Other colour…" for a channel
    channels_changed = Signal(list)  # the channels listed, after a change

    def __init__(self, palette: ChannelColors | None = None) -> None:
        super().__init__()
        self.palette_ = palette or ChannelColors()
        self.title = QLabel("Channels")
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemSelectionChanged.connect(lambda: self.selection_changed.emit(self.selected()))
        self.list.setItemDelegate(SparklineDelegate(self.list))
        self.list.setIconSize(ICON_SIZE)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # elided
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        self._status: dict[str, tuple[str, str]] = {}
        self._counts: dict[str, int] = {}
        self._rates: dict[str, float] = {}
        self._unread: dict[str, int] = {}
        self.hidden: frozenset[str] = frozenset()
        self._transports: dict[str, str] = {}  # channel -> cometd | pubsub
        self.menu_actions: list[QAction] = []  # the window's, first in the menu
        remove = QAction("Remove channel", self.list)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self._remove_selected)
        self.list.addAction(remove)
        self.palette_.changed.connect(self.repaint_all)

    def channels(self) -> list[str]:
        return [self.list.item(i).data(CHANNEL_ROLE) for i in range(self.list.count())]

    def selected(self) -> list[str]:
        return [item.data(CHANNEL_ROLE) for item in self.list.selectedItems()]

    def item_of(self, channel: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(CHANNEL_ROLE) == channel:
                return item
        return None

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
        self.channels_changed.emit(list(channels))

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
        self.repaint_all()

    def set_counts(self, counts: dict[str, int]) -> None:
        self._counts = counts
        self.repaint_all()

    def set_activity(
        self,
        rates: Mapping[str, float],
        series: Mapping[str, list[int]],
        unread: Mapping[str, int],
    ) -> None:
        """Each channel's rate (events/min), its sparkline's counts and its unread count."""
        self._rates, self._unread = dict(rates), dict(unread)
        for i in range(self.list.count()):
            item = self.list.item(i)
            channel = item.data(CHANNEL_ROLE)
            index = self.list.indexFromItem(item)
            values = series.get(channel) or []
            set_item_sparkline(self.list.model(), index, values, self.palette_.color(channel))
            self._paint(item)

    def set_hidden(self, hidden: frozenset[str]) -> None:
        self.hidden = frozenset(hidden)
        self.repaint_all()

    def unread(self, channel: str) -> int:
        return self._unread.get(channel, 0)

    def repaint_all(self) -> None:
        """Every item again (colours changed, the theme changed, new figures)."""
        for i in range(self.list.count()):
            self._paint(self.list.item(i))

    def _repaint(self, channel: str) -> None:
        item = self.item_of(channel)
        if item is not None:
            self._paint(item)

    def _paint(self, item: QListWidgetItem) -> None:
        channel = item.data(CHANNEL_ROLE)
        status, error = self._status.get(channel, ("offline", ""))
        line = f"{status} · {self._counts.get(channel, 0):,} events"
        if channel in self._rates:
            line += f" · {rate_text(self._rates[channel])}"
        unread = self._unread.get(channel, 0)
        if unread:
            line += f" · {unread:,} unread"
        hidden = channel in self.hidden
        if hidden:
            line += " · hidden"
        text = f"{channel}\n  {line}"
        if item.text() != text:
            item.setText(text)
        scheme = colors()
        item.setForeground(QColor(scheme.muted if hidden else status_color(status, scheme)))
        font = QFont(self.list.font())
        font.setItalic(hidden)
        font.setBold(bool(unread) and not hidden)
        item.setFont(font)
        transport = self.transport(channel)
        item.setIcon(row_icon(self.palette_.color(channel), transport))
        tip = f"{channel}: {status} (over {transport_label(transport)})"
        tip += f"\n{error}" if error else ""
        if hidden:
            tip += "\nHidden from view: still captured, left out of the table and the timeline"
        item.setToolTip(tip)

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
            if self.menu_actions:
                menu.addSeparator()
            menu.addAction("Replay last 24 hours", lambda: self.replay_requested.emit(channels))
            menu.addSeparator()
            hide = not all(ch in self.hidden for ch in channels)
            label = "Hide from view" if hide else "Show in view"
            menu.addAction(label, lambda: self.hide_requested.emit(channels, hide))
            colours = add_color_menu(menu, self.palette_, channels)
            if len(channels) == 1:
                colours.addAction("Other colour…", lambda: self.color_requested.emit(channels[0]))
            menu.addSeparator()
            menu.addAction("Remove channel", self._remove_selected)
        menu.popup(self.list.viewport().mapToGlobal(position))  # no nested event loop
