"""The timeline strip: events per time bucket, stacked by channel colour, gaps marked.

It shows the whole captured range, growing as events arrive (or a zoomed part of it:
the wheel zooms around the cursor, a double click shows everything again; a zoomed view
whose right edge is at the newest event keeps following it). Drag to select a time range
(``range_selected``), click to jump to a time (``time_clicked``).

Counts come from ``store.timeline.Timeline`` in the worker thread, at most four times a
second while events arrive; a paint only draws rectangles laid out when the counts or the
size changed, never a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPolygonF,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from sfmonitor.store.timeline import Histogram, Span, Timeline

from .channel_colors import ChannelColors
from .theme import colors
from .worker import Worker

log = logging.getLogger(__name__)
SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
NICE_MS = (
    *(100, 250, 500),
    *(SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND),
    *(MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE),
    *(HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY),
)
PX_PER_BUCKET = 3
TICK_PX = 110  # time labels at least this far apart
LABELS_H = 14
MIN_RANGE_MS = MINUTE  # the whole range of a few events still spans a minute
REFRESH_MS = 250  # live traffic redraws at most this often
DRAG_PX = 4


def choose_bucket(range_ms: int, width_px: int) -> int:
    """The smallest nice bucket that gives at least ``PX_PER_BUCKET`` px a bucket."""
    wanted = max(range_ms, 1) / max(width_px / PX_PER_BUCKET, 1)
    for size in NICE_MS:
        if size >= wanted:
            return size
    return int(-(-wanted // (7 * DAY)) * 7 * DAY)  # whole weeks beyond


@dataclass(frozen=True)
class TimelineData:
    """What one load found: the range shown, its buckets, the captured span."""

    profile_id: int
    since_ms: int
    until_ms: int
    span: Span | None
    histogram: Histogram | None


class TimelineStrip(QWidget):
    range_selected = Signal(object, object)  # since_ms, until_ms (int; until exclusive)
    selection_cleared = Signal()
    time_clicked = Signal(object)  # ms (int: beyond a 32-bit Qt int)

    def __init__(
        self, timeline: Timeline, worker: Worker, palette: ChannelColors | None = None
    ) -> None:
        super().__init__()
        self.timeline = timeline
        self.worker = worker
        self.palette_ = palette or ChannelColors()
        self.palette_.changed.connect(self._relayout)
        self.profile_id: int | None = None
        self.data: TimelineData | None = None
        self.hidden: frozenset[str] = frozenset()
        self.selection: tuple[int, int] | None = None
        self._zoom: tuple[int, int] | None = None  # None: the whole captured range
        self._bars: list[tuple[QRectF, QColor]] = []
        self._gaps: list[float] = []
        self._press: float | None = None
        self._drag: tuple[float, float] | None = None
        self._busy = False
        self._again = False
        self._dirty = False  # events arrived while hidden
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(REFRESH_MS)
        self._live.timeout.connect(self.refresh)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumHeight(40)
        self.setToolTip("")  # tooltips are made per bucket in event()

    def sizeHint(self) -> QSize:
        return QSize(600, 64)

    # --- what to show ----------------------------------------------------------------------

    def set_profile(self, profile_id: int | None) -> None:
        self.profile_id = profile_id
        self.data = None
        self._zoom = None
        self.selection = None
        self._relayout()
        self.refresh()

    def set_hidden(self, channels: frozenset[str]) -> None:
        """Channels left out of the bars (drawing only: nothing is read again)."""
        self.hidden = frozenset(channels)
        self._relayout()

    def set_selection(self, since_ms: int | None, until_ms: int | None) -> None:
        """Show a time range chosen elsewhere (the filter bar); None clears it."""
        self.selection = None if since_ms is None or until_ms is None else (since_ms, until_ms)
        self.update()

    def clear_selection(self) -> None:
        if self.selection is not None:
            self.selection = None
            self.update()
            self.selection_cleared.emit()

    def show_all(self) -> None:
        self._zoom = None
        self.refresh()

    def zoom(self, factor: float, at_ms: int) -> None:
        """Narrow (factor < 1) or widen the view around ``at_ms``."""
        data = self.data
        if data is None or data.span is None:
            return
        low = at_ms - (at_ms - data.since_ms) * factor
        high = at_ms + (data.until_ms - at_ms) * factor
        if high - low < SECOND:
            return
        whole = self._whole(data.span)
        if low <= whole[0] and high >= whole[1]:
            self._zoom = None
        else:
            self._zoom = (int(low), int(high))
        self.refresh()

    # --- loading -----------------------------------------------------------------------------

    def new_events(self) -> None:
        """Events were stored: redraw soon (bursts are coalesced; a hidden strip reads
        nothing until it is shown again)."""
        if not self.isVisible():
            self._dirty = True
        elif not self._live.isActive():
            self._live.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self._dirty = False
            self.refresh()

    def refresh(self) -> None:
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._spawn(self._refresh())

    async def _refresh(self) -> None:
        try:
            while True:
                self._again = False
                pid, zoom = self.profile_id, self._zoom
                if pid is None:
                    break
                old = self.data.span if self.data is not None else None
                follow = zoom is not None and old is not None and zoom[1] > old.last_ms
                try:
                    data = await self.worker.run(self.load, pid, self.width(), zoom, follow)
                except Exception as exc:  # a closed or damaged store: keep what is shown
                    log.warning("timeline not updated: %s", exc)
                    break
                if pid == self.profile_id and zoom == self._zoom:
                    self.show_data(data)
                if not self._again:
                    break
        finally:
            self._busy = False

    def _whole(self, span: Span) -> tuple[int, int]:
        high = span.last_ms + 1
        return min(span.first_ms, high - MIN_RANGE_MS), high

    def load(
        self, profile_id: int, width: int, zoom: tuple[int, int] | None, follow: bool = False
    ) -> TimelineData:
        """Read what to show (blocking: the worker thread calls it). ``zoom``: the range
        shown (None: everything); ``follow``: keep its right edge at the newest event."""
        span = self.timeline.span(profile_id)
        if span is None:
            return TimelineData(profile_id, 0, 0, None, None)
        low, high = self._whole(span)
        if zoom is not None:
            shift = high - zoom[1] if follow else 0  # the newest stays at the right edge
            low, high = zoom[0] + shift, zoom[1] + shift
        bucket = choose_bucket(high - low, width)
        histogram = self.timeline.histogram(profile_id, low, high, bucket)
        return TimelineData(profile_id, low, high, span, histogram)

    def show_data(self, data: TimelineData) -> None:
        if self._zoom is not None and data.histogram is not None:
            self._zoom = (data.since_ms, data.until_ms)
        self.data = data
        self._relayout()

    async def settle(self) -> None:
        """Wait for pending loads (tests)."""
        while self._tasks or self._live.isActive():
            if self._live.isActive():
                self._live.stop()
                self.refresh()
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._tasks))

    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:  # no loop running (the window is closing)
            coro.close()
            self._busy = False
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- geometry ----------------------------------------------------------------------------

    def _bars_rect(self) -> QRectF:
        return QRectF(0, 2, self.width(), max(self.height() - LABELS_H - 3, 4))

    def x_of(self, ms: float) -> float:
        data = self.data
        if data is None or data.until_ms <= data.since_ms:
            return 0.0
        return (ms - data.since_ms) / (data.until_ms - data.since_ms) * self.width()

    def ms_at(self, x: float) -> int:
        data = self.data
        if data is None or data.until_ms <= data.since_ms:
            return 0
        return round(data.since_ms + x / max(self.width(), 1) * (data.until_ms - data.since_ms))

    def _relayout(self) -> None:
        """Lay the bars out once per new counts, size, hidden set or colours."""
        self._bars, self._gaps = [], []
        data = self.data
        hist = data.histogram if data is not None else None
        if hist is None or hist.size == 0:
            self.update()
            return
        shown = {ch: s for ch, s in hist.counts.items() if ch not in self.hidden}
        totals = [sum(s[i] for s in shown.values()) for i in range(hist.size)]
        peak = max(max(totals), 1)
        area = self._bars_rect()
        width = self.x_of(hist.start_ms(1)) - self.x_of(hist.start_ms(0))
        inset = 1.0 if width >= 4 else 0.0
        colors_of = {ch: self.palette_.color(ch) for ch in shown}
        for i in range(hist.size):
            left = self.x_of(hist.start_ms(i))
            if hist.gaps[i]:
                self._gaps.append(left + width / 2)
            bottom = area.bottom()
            for channel, series in shown.items():
                if series[i]:
                    height = series[i] / peak * area.height()
                    rect = QRectF(left, bottom - height, max(width - inset, 1.0), height)
                    self._bars.append((rect, colors_of[channel]))
                    bottom -= height
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()
        if self.data is not None and self.data.histogram is not None:
            self.refresh()  # another width may want another bucket size

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        scheme = colors()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(scheme.timeline_background))
        area = self._bars_rect()
        painter.setPen(QColor(scheme.timeline_grid))
        painter.drawLine(
            QPointF(0, area.bottom() + 0.5), QPointF(self.width(), area.bottom() + 0.5)
        )
        for rect, color in self._bars:
            painter.fillRect(rect, color)
        self._paint_gaps(painter, area, QColor(scheme.timeline_gap))
        self._paint_ticks(painter, area, QColor(scheme.muted), QColor(scheme.timeline_grid))
        chosen = self._drag or self._selection_px()
        if chosen is not None:
            painter.fillRect(
                QRectF(chosen[0], 0, max(chosen[1] - chosen[0], 1), area.bottom()),
                QColor(scheme.timeline_selection),
            )
        if self.data is not None and self.data.span is None:
            painter.setPen(QColor(scheme.muted))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No events yet")
        painter.end()

    def _paint_gaps(self, painter: QPainter, area: QRectF, color: QColor) -> None:
        painter.setPen(color)
        painter.setBrush(color)
        for x in self._gaps:  # a line through the bars and a small triangle on top
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            painter.drawPolygon(QPolygonF([QPointF(x - 4, 0), QPointF(x + 4, 0), QPointF(x, 6)]))

    def _paint_ticks(self, painter: QPainter, area: QRectF, text: QColor, grid: QColor) -> None:
        data = self.data
        if data is None or data.histogram is None:
            return
        span = data.until_ms - data.since_ms
        step = next((s for s in NICE_MS if s * self.width() / max(span, 1) >= TICK_PX), NICE_MS[-1])
        offset = datetime.fromtimestamp(data.since_ms / 1000).astimezone().utcoffset()
        shift = int(offset.total_seconds() * 1000) if offset is not None else 0
        tick = data.since_ms - (data.since_ms + shift) % step + step
        fmt = "%H:%M:%S" if step < MINUTE else "%H:%M" if step < DAY else "%m-%d"
        metrics = painter.fontMetrics()
        while tick < data.until_ms:
            x = self.x_of(tick)
            painter.setPen(grid)
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 3))
            label = datetime.fromtimestamp(tick / 1000).strftime(fmt)
            painter.setPen(text)
            painter.drawText(
                QPointF(x - metrics.horizontalAdvance(label) / 2, self.height() - 2), label
            )
            tick += step

    def _selection_px(self) -> tuple[float, float] | None:
        if self.selection is None:
            return None
        return self.x_of(self.selection[0]), self.x_of(self.selection[1])

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.update()  # colours() of the new scheme at the next paint
        super().changeEvent(event)

    # --- mouse and keys ----------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press, self._drag = event.position().x(), None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._press is not None and abs(x - self._press) >= DRAG_PX:
            self._drag = (max(min(self._press, x), 0.0), min(max(self._press, x), self.width()))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        drag, self._press, self._drag = self._drag, None, None
        if self.data is None or self.data.span is None:
            return
        if drag is not None:
            since, until = self.ms_at(drag[0]), self.ms_at(drag[1])
            self.selection = (since, until)
            self.update()
            self.range_selected.emit(since, until)
        else:
            self.time_clicked.emit(self.ms_at(event.position().x()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.show_all()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(0.8**steps, self.ms_at(event.position().x()))
            event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear_selection()
        else:
            super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.bucket_text(event.pos().x())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def bucket_text(self, x: float) -> str:
        """What the bucket under ``x`` holds, for its tooltip."""
        data = self.data
        hist = data.histogram if data is not None else None
        if hist is None or hist.size == 0:
            return ""
        i = self.ms_at(x) // hist.bucket_ms - hist.first
        if not 0 <= i < hist.size:
            return ""
        start = datetime.fromtimestamp(hist.start_ms(i) / 1000)
        end = datetime.fromtimestamp(hist.start_ms(i + 1) / 1000)
        if hist.bucket_ms < DAY:
            lines = [f"{start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S}"]
        else:
            lines = [f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"]
        lines += [f"{ch}: {s[i]:,}" for ch, s in hist.counts.items() if s[i]]
        if hist.gaps[i]:
            lines.append(f"{hist.gaps[i]} gap{'s' if hist.gaps[i] > 1 else ''}")
        return "\n".join(lines if len(lines) > 1 else [*lines, "no events"])
