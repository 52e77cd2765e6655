"""The small badge that says which API carries a channel (CometD or Pub/Sub), drawn once
per transport as an icon for the channel sidebar."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

BADGE_SIZE = QSize(52, 16)
LABELS = {"cometd": "CometD", "pubsub": "Pub/Sub"}
COLORS = {"cometd": "#57606a", "pubsub": "#0969da"}
_cache: dict[str, QIcon] = {}


def transport_label(transport: str) -> str:
    return LABELS.get(transport, transport)


def badge_icon(transport: str) -> QIcon:
    icon = _cache.get(transport)
    if icon is None:
        icon = QIcon(_draw(transport))
        _cache[transport] = icon
    return icon


def _draw(transport: str) -> QPixmap:
    ratio = 2.0  # sharp on high-density screens too
    pixmap = QPixmap(BADGE_SIZE * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(0.5, 0.5, BADGE_SIZE.width() - 1, BADGE_SIZE.height() - 1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(COLORS.get(transport, "#57606a")))
        painter.drawRoundedRect(box, 4, 4)
        font = QFont()
        font.setPixelSize(10)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, transport_label(transport))
    finally:
        painter.end()
    return pixmap
