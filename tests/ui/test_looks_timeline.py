"""The timeline strip in the window (issue 18): above the table, a range dragged on it is
the table's time filter (Esc clears it), a click jumps the table to that time, and it
follows live traffic captured from the real emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, EventQuery
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until
from tests.ui.test_timeline import drag

pytestmark = pytest.mark.asyncio
NEWS = "/u/news"
MINUTE = 60_000
T0 = 1_764_300_000_000  # two hours of history, an event a minute, before the live ones


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        yield emu


def record(pid: int, n: int) -> tuple[object, ...]:
    """An event of NEWS ``n`` minutes after T0 (a row as ``ingest_records`` takes it)."""
    ms = T0 + n * MINUTE
    return (pid, NEWS, "generic", None, None, ms, ms, "", f"event {n}", "{}")


def history(pid: int) -> list[tuple[object, ...]]:
    return [record(pid, n) for n in range(120)]


async def test_drag_filters_a_click_jumps_and_it_follows_live(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (NEWS,))
    assert profile.id is not None
    store.ingest_records(history(profile.id))
    await window.show_profile(profile)
    strip = window.timeline
    await strip.settle()
    assert strip.isVisible() and strip.data is not None and strip.data.histogram is not None
    assert sum(strip.data.histogram.totals()) == 120
    await wait_until(lambda: window.model.rowCount() == 120)

    drag(strip, strip.x_of(T0 + 30 * MINUTE), strip.x_of(T0 + 60 * MINUTE))
    since, until = window.filter_bar.custom_range() or (0, 0)
    expected = store.count(EventQuery(profile.id, since_ms=since, until_ms=until))
    assert 25 <= expected <= 35
    await wait_until(lambda: window.model.rowCount() == expected)
    assert window.model.query.since_ms == since and window.model.query.until_ms == until
    QTest.keyClick(strip, Qt.Key.Key_Escape)  # as a person clears the range
    await wait_until(lambda: window.model.rowCount() == 120)
    assert window.filter_bar.custom_range() is None

    jump = T0 + 90 * MINUTE + MINUTE // 2
    row = await window.looks.timeline.jump_to(jump)
    assert row is not None and window.table.currentIndex().row() == row
    shown = window.model.row_at(row)
    before = window.model.row_at(row - 1)
    assert shown is not None and before is not None
    assert before.created_at < jump <= shown.created_at  # the first event at or after it
    assert window.pause_action.isChecked()

    last = strip.data.span.last_ms  # type: ignore[union-attr]
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    item = window.sidebar.item_of(NEWS)
    await wait_until(lambda: item is not None and "live" in item.text(), 20)
    emulator.org.publish_any(NEWS, "now")
    await wait_until(lambda: store.count(EventQuery(profile.id)) == 121, 20)
    await wait_until(
        lambda: (
            strip.data is not None
            and strip.data.span is not None
            and strip.data.span.last_ms > last
        ),
        10,
        "the strip follows live traffic",
    )
    assert sum(strip.data.histogram.totals()) == 121  # type: ignore[union-attr]


async def test_the_view_menu_hides_the_timeline_and_it_reads_nothing_then(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (NEWS,))
    assert profile.id is not None
    store.ingest_records(history(profile.id))
    await window.show_profile(profile)
    action = window.looks.menus.timeline_action
    assert action.isChecked()
    action.trigger()
    assert not window.timeline.isVisible()
    assert window.settings.value("view/timeline", type=bool) is False
    store.ingest_records([record(profile.id, 200)])
    window.timeline.new_events()
    assert not window.timeline._live.isActive()  # a hidden strip reads nothing
    action.trigger()
    await window.timeline.settle()
    assert window.timeline.isVisible()
    assert sum(window.timeline.data.histogram.totals()) == 121  # type: ignore[union-attr]
