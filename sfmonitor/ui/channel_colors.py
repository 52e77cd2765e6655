"""A colour per channel: stable across restarts, readable in light and dark, editable.

A channel's colour comes from a hash of its name (CRC-32, not Python's ``hash``, which
changes from run to run) into ``PALETTE``. Within a profile, ``set_channels`` spreads
channels whose hashes collide onto free colours, in subscription order, so a channel added
later never changes the colour of one already there. A person's choice (an override) wins;
the caller persists ``overrides()`` per profile and hands them back at start.

``chip_icon`` is the small rounded square shown beside a channel in the sidebar and in the
table's channel cell (cached: the table asks for it on every paint).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QColorDialog, QMenu

from .modal import Dialogs
from .theme import colors

log = logging.getLogger(__name__)

# Twelve hues at one luminance (~0.19): 3.8:1 against white and against a near-black
# base, so a chip, a bar or a sparkline in these reads on both schemes. Neighbours differ
# a lot in hue: a collision moves a channel to the next slot.
NAMED: tuple[tuple[str, str], ...] = (
    ("#257bd0", "Blue"),
    ("#ba6121", "Orange"),
    ("#198b35", "Green"),
    ("#d92a9f", "Magenta"),
    ("#1b8499", "Cyan"),
    ("#dd3d3d", "Red"),
    ("#935ae2", "Violet"),
    ("#478818", "Olive"),
    ("#c036dc", "Purple"),
    ("#18886c", "Teal"),
    ("#9c711c", "Ochre"),
    ("#626de3", "Indigo"),
)
PALETTE: tuple[str, ...] = tuple(value for value, _name in NAMED)
CHIP_SIZE = 12


def slot_of(channel: str) -> int:
    """The palette slot of a channel's name, the same in every process."""
    return zlib.crc32(channel.encode("utf-8", "surrogatepass")) % len(PALETTE)


def default_color(channel: str) -> str:
    return PALETTE[slot_of(channel)]


def color_problem(value: object) -> str | None:
    """Why ``value`` is not a colour (None: it is one, e.g. "#1a7f37")."""
    if (
        not isinstance(value, str)
        or not value.startswith("#")
        or not QColor.isValidColorName(value)
    ):
        return f"{value!r} is not a colour (write it as #rrggbb)"
    return None


class ChannelColors(QObject):
    """The colours of one profile's channels."""

    changed = Signal()  # a colour changed: repaint chips, bars and sparklines

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._overrides: dict[str, str] = {}
        self._assigned: dict[str, str] = {}
        self._overrides = self._checked(overrides or {})

    @staticmethod
    def _checked(overrides: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for channel, value in overrides.items():
            problem = color_problem(value)
            if problem is None and isinstance(channel, str):
                out[channel] = QColor(value).name()
            else:
                log.warning("channel colour of %r ignored: %s", channel, problem)
        return out

    def set_overrides(self, overrides: Mapping[str, str]) -> None:
        """Another profile's choices (as read back from settings; bad ones are left out)."""
        checked = self._checked(overrides)
        if checked != self._overrides:
            self._overrides = checked
            self.changed.emit()

    def set_channels(self, channels: Sequence[str]) -> None:
        """The profile's channels in subscription order: colliding defaults are spread
        over free slots (earlier channels keep theirs)."""
        taken: set[int] = set()
        assigned: dict[str, str] = {}
        for channel in channels:
            if channel in assigned or channel in self._overrides:
                continue
            home = slot_of(channel)
            free = (s % len(PALETTE) for s in range(home, home + len(PALETTE)))
            slot = next((s for s in free if s not in taken), home)
            taken.add(slot)
            assigned[channel] = PALETTE[slot]
        if assigned != self._assigned:
            self._assigned = assigned
            self.changed.emit()

    def name(self, channel: str) -> str:
        """The colour of ``channel`` as #rrggbb."""
        return self._overrides.get(channel) or self._assigned.get(channel) or default_color(channel)

    def color(self, channel: str) -> QColor:
        return QColor(self.name(channel))

    def set_override(self, channel: str, value: str | QColor | None) -> None:
        """A person's colour for ``channel`` (None: back to its own). ValueError for
        something that is not a colour; nothing changes then."""
        if value is None:
            if self._overrides.pop(channel, None) is not None:
                self.changed.emit()
            return
        if isinstance(value, QColor):
            problem = None if value.isValid() else "an invalid colour"
            text = value.name()
        else:
            problem = color_problem(value)
            text = QColor(value).name() if problem is None else ""
        if problem is not None:
            raise ValueError(f"colour of {channel}: {problem}")
        if self._overrides.get(channel) != text:
            self._overrides[channel] = text
            self.changed.emit()

    def overrides(self) -> dict[str, str]:
        """The person's choices, to persist per profile."""
        return dict(self._overrides)


def overrides_to_text(overrides: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(overrides.items())), ensure_ascii=False)


def overrides_from_text(text: object) -> dict[str, str]:
    """Overrides read back from settings; a damaged value gives none (and a log line),
    never an exception at start-up. ``ChannelColors`` checks each colour."""
    if text is None or text == "":
        return {}
    try:
        value = json.loads(text) if isinstance(text, str | bytes) else text
    except ValueError as exc:
        log.warning("channel colours in the settings are not JSON (%s); defaults used", exc)
        return {}
    if not isinstance(value, dict):
        log.warning("channel colours in the settings are not a mapping; defaults used")
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


# --- chips --------------------------------------------------------------------------------

_chips: dict[tuple[str, int, float, bool], QIcon] = {}


def paint_chip(painter: QPainter, rect: QRectF, color: QColor) -> None:
    """A rounded square of ``color`` with a thin edge that shows on either scheme."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    edge = QColor(colors().chip_border)
    painter.setPen(QPen(edge, 1.0))
    painter.setBrush(color)
    inner = rect.adjusted(0.5, 0.5, -0.5, -0.5)
    radius = max(1.5, inner.width() / 4)
    painter.drawRoundedRect(inner, radius, radius)
    painter.restore()


def chip_pixmap(color: QColor, size: int = CHIP_SIZE, ratio: float = 1.0) -> QPixmap:
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    paint_chip(painter, QRectF(0, 0, size, size), color)
    painter.end()
    return pixmap


def chip_icon(color: QColor, size: int = CHIP_SIZE, ratio: float = 2.0) -> QIcon:
    """A cached icon of the chip (drawn at ``ratio`` for sharp high-DPI screens)."""
    key = (color.name(QColor.NameFormat.HexArgb), size, ratio, colors().dark)
    icon = _chips.get(key)
    if icon is None:
        if len(_chips) > 512:
            _chips.clear()
        icon = _chips[key] = QIcon(chip_pixmap(color, size, ratio))
    return icon


# --- editing ------------------------------------------------------------------------------


def add_color_menu(menu: QMenu, palette: ChannelColors, channels: Iterable[str]) -> QMenu:
    """A "Colour" submenu for ``channels``: the palette's chips and "Default". (Another
    colour: ``choose_color``, from the caller's "Other colour…".)"""
    chosen = list(channels)
    sub = menu.addMenu("Colour")
    for value, name in NAMED:
        action = sub.addAction(chip_icon(QColor(value)), name)
        action.triggered.connect(lambda _=False, v=value: _set_all(palette, chosen, v))
    sub.addSeparator()
    sub.addAction("Default colour", lambda: _set_all(palette, chosen, None))
    return sub


def _set_all(palette: ChannelColors, channels: list[str], value: str | None) -> None:
    for channel in channels:
        palette.set_override(channel, value)


async def choose_color(dialogs: Dialogs, palette: ChannelColors, channel: str) -> bool:
    """Let the person pick any colour for ``channel`` (awaited, no nested event loop);
    True if one was chosen."""
    dialog = QColorDialog(palette.color(channel), dialogs.parent)
    dialog.setWindowTitle(f"Colour of {channel}")
    try:
        if not await dialogs.run(dialog):
            return False
        palette.set_override(channel, dialog.currentColor())
        return True
    finally:
        dialog.deleteLater()
