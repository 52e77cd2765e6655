"""Rates per channel from counts, and sparklines drawn from them on real widgets."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem

from sfmonitor.ui.rates import POINTS, WINDOW_S, RateMeter, rate_text
from sfmonitor.ui.sparkline import Sparkline, SparklineDelegate, paint_sparkline, set_item_sparkline
from sfmonitor.ui.theme import apply_theme

T = 10_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T

    def __call__(self) -> float:
        return self.now


def test_rate_is_events_per_minute_over_the_last_minute() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    clock.now += 120  # counted for two minutes
    for second in range(60):  # 2 events a second on A for a minute
        meter.add("/a", 2, clock.now - 59 + second)
    meter.add("/b", 30, clock.now - 30)
    meter.add("/b", 30, clock.now - 90)  # more than a minute ago: not in the rate
    assert meter.rate("/a") == 120.0
    assert meter.rate("/b") == 30.0
    assert meter.rate("/nothing") == 0.0
    assert meter.rates() == {"/a": 120.0, "/b": 30.0}
    clock.now += 61
    assert meter.rate("/a") == 0.0


def test_a_young_meter_scales_to_a_minute() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    clock.now += 10
    for second in range(10):
        meter.add("/a", 5, clock.now - 9 + second)
    assert meter.rate("/a") == 300.0  # 50 in 10 s


def test_series_covers_ten_minutes_and_forgets_older_counts() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    meter.add("/a", 7, T - 595)  # the oldest ten seconds
    meter.add("/a", 3, T - 1)
    meter.add("/a", 4, T)  # the newest ten seconds
    meter.add("/a", 100, T - 700)  # beyond ten minutes
    series = meter.series("/a")
    assert len(series) == POINTS and series[0] == 7 and series[-1] == 7 and sum(series) == 14
    clock.now += WINDOW_S
    assert meter.series("/a") == [0] * POINTS
    assert meter.series("/none", points=5) == [0] * 5


def test_totals_become_counts_after_a_baseline() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    meter.feed_totals({"/a": 1000, "/b": 5})  # what was captured before: not new
    clock.now += 60
    meter.feed_totals({"/a": 1060, "/b": 5, "/c": 6})  # /c: a channel's first events
    assert meter.rate("/a") == 60.0 and meter.rate("/b") == 0.0 and meter.rate("/c") == 6.0
    meter.feed_totals({"/a": 10, "/b": 5, "/c": 6})  # events deleted: a new baseline
    clock.now += 1
    meter.feed_totals({"/a": 12, "/b": 5, "/c": 6})
    assert sum(meter.series("/a")) == 62
    meter.clear()
    meter.feed_totals({"/a": 500})
    assert meter.rates() == {}


def test_rate_text() -> None:
    assert [rate_text(v) for v in (0, 3.44, 12.4, 3400, 45_000)] == [
        "0/min",
        "3.4/min",
        "12/min",
        "3.4k/min",
        "45k/min",
    ]


def coloured(image: QImage, color: QColor, x0: int, x1: int) -> list[int]:
    """Rows (y) where a pixel between x0 and x1 is close to ``color``."""
    rows = set()
    for x in range(x0, x1):
        for y in range(image.height()):
            c = image.pixelColor(x, y)
            if abs(c.red() - color.red()) + abs(c.green() - color.green()) < 60 and (
                abs(c.blue() - color.blue()) < 40
            ):
                rows.add(y)
    return sorted(rows)


def test_sparkline_draws_the_newest_value_on_the_right(qtbot: Any) -> None:
    color = QColor("#257bd0")
    spark = Sparkline(color=color)
    qtbot.addWidget(spark)
    spark.resize(64, 18)
    spark.set_values([0] * 59 + [10])
    image = spark.grab().toImage()
    assert coloured(image, color, 60, 64)[0] <= 3  # the peak reaches the top on the right
    assert all(y >= 15 for y in coloured(image, color, 2, 40))  # flat along the bottom before
    spark.set_values([10] + [0] * 59)
    image = spark.grab().toImage()
    assert coloured(image, color, 1, 3)[0] <= 3
    assert all(y >= 15 for y in coloured(image, color, 30, 62))


def test_equal_values_do_not_repaint(qtbot: Any, qapp: QApplication) -> None:
    spark = Sparkline()
    qtbot.addWidget(spark)
    spark.show()
    qtbot.waitExposed(spark)
    spark.set_values([1, 2, 3])
    qtbot.waitUntil(lambda: spark.paints > 0)
    before = spark.paints
    spark.set_values([1, 2, 3])
    qapp.processEvents()
    assert spark.paints == before
    spark.set_values([1, 2, 4])
    qtbot.waitUntil(lambda: spark.paints > before)


def test_empty_values_draw_only_the_baseline(qapp: QApplication) -> None:
    image = QImage(64, 18, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    paint_sparkline(painter, QRectF(1, 1, 62, 16), [0, 0, 0], QColor("#dd3d3d"))
    painter.end()
    assert coloured(image, QColor("#dd3d3d"), 0, 64) == []
    assert image.pixelColor(30, 17).alpha() > 0  # the baseline


def test_delegate_draws_each_items_sparkline(qtbot: Any, qapp: QApplication) -> None:
    listing = QListWidget()
    qtbot.addWidget(listing)
    listing.setItemDelegate(SparklineDelegate(listing))
    listing.resize(300, 120)
    for name in ("/topic/A", "/topic/B"):
        listing.addItem(QListWidgetItem(name))
    model = listing.model()
    set_item_sparkline(model, model.index(0, 0, QModelIndex()), [0] * 59 + [5], QColor("#dd3d3d"))
    listing.show()
    qtbot.waitExposed(listing)
    image = listing.viewport().grab().toImage()
    width = image.width()
    red = coloured(image, QColor("#dd3d3d"), width - 80, width)
    row0 = listing.visualItemRect(listing.item(0))
    assert red and all(row0.top() <= y <= row0.bottom() for y in red)  # only on the first row
    for theme in ("dark", "system"):  # readable in both: drawn again after a switch
        apply_theme(qapp, theme)
        qapp.processEvents()
        assert coloured(listing.viewport().grab().toImage(), QColor("#dd3d3d"), width - 80, width)
