"""The timeline strip on a real store: stacked bars in channel colours, gap marks, drag to
select, click to jump, zoom, live traffic, and no query while painting."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from sfmonitor.store import CaptureStore, Environment, Gap, Profile
from sfmonitor.store.timeline import Timeline, add_index
from sfmonitor.ui.channel_colors import ChannelColors
from sfmonitor.ui.theme import DARK, LIGHT, apply_theme, is_dark
from sfmonitor.ui.timeline import (
    DAY,
    MINUTE,
    SECOND,
    TimelineStrip,
    choose_bucket,
)
from sfmonitor.ui.worker import Worker

T0 = 1_764_300_000_000
A, B = "/topic/A", "/event/B__e"


def record(pid: int, channel: str, ms: int, n: int) -> tuple[object, ...]:
    return (pid, channel, "pushtopic", n, None, ms, ms, "", f"event {n}", "{}")


@dataclass
class Setup:
    store: CaptureStore
    pid: int
    timeline: Timeline
    strip: TimelineStrip
    palette: ChannelColors
    statements: list[str]
    serial: int = 0

    def add(self, items: list[tuple[str, int]]) -> None:
        rows = []
        for channel, ms in items:
            self.serial += 1
            rows.append(record(self.pid, channel, ms, self.serial))
        self.store.ingest_records(rows)


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker()
    yield w
    w.shutdown()


@pytest_asyncio.fixture
async def setup(store: CaptureStore, worker: Worker, qtbot: Any) -> AsyncIterator[Setup]:
    with sqlite3.connect(store.path) as conn:
        add_index(conn)
    profile = store.save_profile(Profile("P", Environment.SANDBOX, "https://x"))
    assert profile.id is not None
    timeline = Timeline(store)
    palette = ChannelColors()
    palette.set_channels([A, B])
    strip = TimelineStrip(timeline, worker, palette)
    qtbot.addWidget(strip)
    strip.resize(600, 64)
    strip.show()
    statements: list[str] = []
    timeline._connection().set_trace_callback(statements.append)
    s = Setup(store, profile.id, timeline, strip, palette, statements)
    # ten minutes: A every second, B every 2 s in the first five minutes only
    s.add([(A, T0 + i * SECOND) for i in range(600)])
    s.add([(B, T0 + i * 2 * SECOND) for i in range(150)])
    store.record_gap(profile.id, Gap(A, T0 + 450 * SECOND, 7, "new_only", "gone"))
    yield s
    await strip.settle()
    timeline.close()


def pixels(image: QImage, color: QColor) -> list[tuple[int, int]]:
    return [
        (x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).rgb() == color.rgb()
    ]


async def shown(s: Setup) -> QImage:
    await s.strip.settle()
    return s.strip.grab().toImage()


def mouse(kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> QMouseEvent:
    button = Qt.MouseButton.LeftButton
    return QMouseEvent(
        kind, QPointF(x, 20), QPointF(x, 20), button, buttons, Qt.KeyboardModifier.NoModifier
    )


def drag(strip: TimelineStrip, x0: float, x1: float) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    QApplication.sendEvent(strip, mouse(QEvent.Type.MouseButtonPress, x0, left))
    QApplication.sendEvent(strip, mouse(QEvent.Type.MouseMove, (x0 + x1) / 2, left))
    QApplication.sendEvent(strip, mouse(QEvent.Type.MouseMove, x1, left))
    QApplication.sendEvent(strip, mouse(QEvent.Type.MouseButtonRelease, x1, none))


def test_bucket_sizes_are_nice_and_fill_the_width() -> None:
    assert choose_bucket(10 * MINUTE, 600) == 5 * SECOND  # 600 s / 200 buckets = 3 s
    assert choose_bucket(24 * 60 * MINUTE, 300) == 15 * MINUTE
    assert choose_bucket(100, 600) == 100
    assert choose_bucket(5 * 365 * DAY, 100) % (7 * DAY) == 0


@pytest.mark.asyncio
async def test_bars_stack_by_channel_colour_with_gaps_marked(setup: Setup) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    image = await shown(s)
    data = s.strip.data
    assert data is not None and data.histogram is not None
    assert sum(data.histogram.totals()) == 750 and sum(data.histogram.gaps) == 1
    a, b = pixels(image, s.palette.color(A)), pixels(image, s.palette.color(B))
    assert a and b
    half = s.strip.x_of(T0 + 300 * SECOND)
    assert max(x for x, _ in b) <= half + 4  # B only in the first five minutes
    assert max(x for x, _ in a) > half + 100
    colours = DARK if is_dark() else LIGHT
    gap_x = s.strip.x_of(T0 + 450 * SECOND)
    marks = pixels(image, QColor(colours.timeline_gap))
    bucket = data.histogram.bucket_ms
    start = s.strip.x_of((T0 + 450 * SECOND) // bucket * bucket)
    end = s.strip.x_of((T0 + 450 * SECOND) // bucket * bucket + bucket)
    assert marks and all(start - 5 <= x <= end + 5 for x, _ in marks)
    assert "/topic/A: " in s.strip.bucket_text(gap_x) and "1 gap" in s.strip.bucket_text(gap_x)


@pytest.mark.asyncio
async def test_painting_reads_nothing(setup: Setup) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    await shown(s)
    s.statements.clear()
    for _ in range(10):
        s.strip.repaint()
        s.strip.grab()
    s.strip.set_hidden(frozenset({B}))
    image = s.strip.grab().toImage()
    assert s.statements == []
    assert not pixels(image, s.palette.color(B)) and pixels(image, s.palette.color(A))


@pytest.mark.asyncio
async def test_drag_selects_a_range_and_a_click_jumps(setup: Setup, qtbot: Any) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    await shown(s)
    ranges: list[tuple[int, int]] = []
    clicks: list[int] = []
    s.strip.range_selected.connect(lambda a, b: ranges.append((a, b)))
    s.strip.time_clicked.connect(clicks.append)
    drag(s.strip, 100, 300)
    assert ranges == [(s.strip.ms_at(100), s.strip.ms_at(300))]
    assert s.strip.selection == ranges[0]
    since, until = ranges[0]
    assert T0 < since < until < T0 + 600 * SECOND
    assert abs((until - since) - 200 / 600 * (s.strip.data.until_ms - s.strip.data.since_ms)) < 2  # type: ignore[union-attr]
    drag(s.strip, 250, 251)  # under the drag threshold: a click
    assert clicks == [s.strip.ms_at(251)]
    cleared: list[int] = []
    s.strip.selection_cleared.connect(lambda: cleared.append(1))
    qtbot.keyClick(s.strip, Qt.Key.Key_Escape)
    assert s.strip.selection is None and cleared == [1]


@pytest.mark.asyncio
async def test_follows_live_traffic_and_zoom(setup: Setup) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    await shown(s)
    assert s.strip.data is not None
    before = s.strip.data.until_ms
    s.add([(B, T0 + 900 * SECOND + i) for i in range(20)])  # five minutes later
    s.strip.new_events()
    await shown(s)
    data = s.strip.data
    assert data is not None and data.until_ms > before and data.histogram is not None
    assert sum(data.histogram.totals()) == 770

    middle = s.strip.width() / 2
    at = s.strip.ms_at(middle)
    wheel = QWheelEvent(
        QPointF(middle, 20),
        QPointF(middle, 20),
        QPoint(),
        QPoint(0, 720),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(s.strip, wheel)
    await shown(s)
    zoomed = s.strip.data
    assert zoomed is not None and zoomed.until_ms - zoomed.since_ms < 0.3 * (
        data.until_ms - data.since_ms
    )
    assert zoomed.since_ms < at < zoomed.until_ms
    assert zoomed.histogram is not None and zoomed.histogram.bucket_ms < data.histogram.bucket_ms

    s.strip.show_all()
    await shown(s)
    assert s.strip.data is not None and s.strip.data.since_ms == data.since_ms


@pytest.mark.asyncio
async def test_a_zoomed_view_at_the_newest_keeps_following(setup: Setup) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    await shown(s)
    assert s.strip.data is not None and s.strip.data.span is not None
    right = s.strip.data.until_ms
    s.strip.zoom(0.5, right)  # the right half, up to the newest event
    await shown(s)
    width = s.strip.data.until_ms - s.strip.data.since_ms
    s.add([(A, T0 + 700 * SECOND)])
    s.strip.new_events()
    await shown(s)
    data = s.strip.data
    assert data is not None and data.span is not None
    assert data.until_ms == data.span.last_ms + 1 and data.until_ms - data.since_ms == width


@pytest.mark.asyncio
async def test_theme_switch_repaints(setup: Setup, qapp: QApplication) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    corner = s.strip.width() - 3, 4  # above the lower bars of A alone
    light = (await shown(s)).pixelColor(*corner)
    assert light == QColor(LIGHT.timeline_background)
    apply_theme(qapp, "dark")
    try:
        qapp.processEvents()
        assert s.strip.grab().toImage().pixelColor(*corner) == QColor(DARK.timeline_background)
    finally:
        apply_theme(qapp, "system")


@pytest.mark.asyncio
async def test_an_empty_profile_says_so(setup: Setup) -> None:
    s = setup
    other = s.store.save_profile(Profile("Empty", Environment.SANDBOX, "https://x"))
    s.strip.set_profile(other.id)
    await shown(s)
    assert s.strip.data is not None and s.strip.data.span is None
    ranges: list[Any] = []
    s.strip.range_selected.connect(lambda a, b: ranges.append(a))
    drag(s.strip, 10, 200)
    assert ranges == [] and s.strip.bucket_text(50) == ""


@pytest.mark.asyncio
async def test_a_hidden_strip_reads_nothing_until_shown(setup: Setup) -> None:
    s = setup
    s.strip.set_profile(s.pid)
    await shown(s)
    s.strip.hide()
    s.statements.clear()
    s.add([(A, T0 + 800 * SECOND)])
    s.strip.new_events()
    await shown(s)
    assert s.statements == []
    s.strip.show()
    await shown(s)
    assert s.statements and s.strip.data is not None and s.strip.data.span is not None
    assert s.strip.data.span.last_ms == T0 + 800 * SECOND
