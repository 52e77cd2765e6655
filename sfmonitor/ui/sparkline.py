"""A small sparkline (QPainter only): a filled line of recent counts, newest on the right.

Cheap to repaint: sixty numbers held in memory (no query), a polygon of them; values
equal to the ones shown do not repaint at all. ``SparklineDelegate`` draws one at the right
of each item of a list (the sidebar's channels) from two item data roles.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from .theme import colors

VALUES_ROLE = Qt.ItemDataRole.UserRole + 20  # list[int]: the counts to draw
COLOR_ROLE = Qt.ItemDataRole.UserRole + 21  # QColor: the line's colour
SIZE = QSize(64, 18)


def polygons(rect: QRectF, values: Sequence[int]) -> tuple[QPolygonF, QPolygonF]:
    """The line and the filled area of ``values`` in ``rect`` (scaled to their peak)."""
    line = QPolygonF()
    if not values:
        return line, QPolygonF()
    peak = max(max(values), 1)
    step = rect.width() / max(len(values) - 1, 1)
    height = rect.height() - 1.0
    for i, value in enumerate(values):
        y = rect.bottom() - 0.5 - height * max(value, 0) / peak
        line.append(QPointF(rect.left() + i * step, y))
    area = QPolygonF(line)
    area.append(QPointF(rect.right(), rect.bottom()))
    area.append(QPointF(rect.left(), rect.bottom()))
    return line, area


def paint_sparkline(
    painter: QPainter, rect: QRectF, values: Sequence[int], color: QColor, baseline: bool = True
) -> None:
    """Draw ``values`` in ``rect``: a light area under a line; a flat muted line when
    there was nothing."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if baseline:
        painter.setPen(QPen(QColor(colors().timeline_grid), 1.0))
        painter.drawLine(QPointF(rect.left(), rect.bottom()), QPointF(rect.right(), rect.bottom()))
    if any(v > 0 for v in values):
        line, area = polygons(rect, values)
        fill = QColor(color)
        fill.setAlpha(70)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawPolygon(area)
        painter.setPen(QPen(color, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPolyline(line)
    painter.restore()


class Sparkline(QWidget):
    """A sparkline of the counts given to ``set_values``."""

    def __init__(self, parent: QWidget | None = None, color: QColor | None = None) -> None:
        super().__init__(parent)
        self._values: list[int] = []
        self._color = QColor(color) if color is not None else QColor(colors().live)
        self.paints = 0  # how often it painted (a test sees that equal values do not)

    def sizeHint(self) -> QSize:
        return SIZE

    def values(self) -> list[int]:
        return list(self._values)

    def set_values(self, values: Sequence[int]) -> None:
        new = list(values)
        if new != self._values:
            self._values = new
            self.update()

    def set_color(self, color: QColor) -> None:
        if color != self._color:
            self._color = QColor(color)
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        self.paints += 1
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        paint_sparkline(painter, rect, self._values, self._color)
        painter.end()


class SparklineDelegate(QStyledItemDelegate):
    """Paints an item as usual, then its sparkline (``VALUES_ROLE`` in ``COLOR_ROLE``)
    at the right of the item, vertically centred."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        values = index.data(VALUES_ROLE)
        if not values:
            super().paint(painter, option, index)
            return
        # the row's background across its width, its text left of the sparkline (elided)
        whole = QStyleOptionViewItem(option)
        self.initStyleOption(whole, index)
        style = whole.widget.style() if whole.widget is not None else QApplication.style()
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, whole, painter, whole.widget
        )
        # at the item's right, or the view's visible right edge if the item is wider
        right = option.rect.right()
        viewport = getattr(whole.widget, "viewport", None)
        if callable(viewport):
            right = min(right, viewport().rect().right())
        text = QStyleOptionViewItem(option)
        text.rect = option.rect.adjusted(0, 0, right - option.rect.right() - SIZE.width() - 12, 0)
        super().paint(painter, text, index)
        color = index.data(COLOR_ROLE)
        rect = QRectF(option.rect)
        box = QRectF(
            right - SIZE.width() - 6,
            rect.center().y() - SIZE.height() / 2,
            SIZE.width(),
            SIZE.height(),
        )
        paint_sparkline(painter, box, values, QColor(color) if color else QColor(colors().live))

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + SIZE.width() + 12, max(size.height(), SIZE.height() + 4))


def set_item_sparkline(
    model: QAbstractItemModel, index: QModelIndex, values: Sequence[int], color: QColor
) -> None:
    """Give an item of ``model`` the values and colour its delegate draws."""
    model.setData(index, list(values), VALUES_ROLE)
    model.setData(index, QColor(color), COLOR_ROLE)
