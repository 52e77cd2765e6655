"""The limits meter in the status bar, from the emulator's live ``/limits/`` counters (which
the events delivered really spend), refreshed before a replay; a replay that would likely
exceed what remains of DailyDeliveredPlatformEvents asks first, and No replays nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore
from sfmonitor.ui.limits_meter import REPLAY_TITLE
from sfmonitor.ui.main_window import MainWindow
from tests.discovery.conftest import LIMITED, users
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
CHANNEL = "/event/Order_Placed__e"
DELIVERY = "DailyDeliveredPlatformEvents"
PRODUCTION = "Replay in a production org?"
YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


async def answer(window: MainWindow, title: str, button: QMessageBox.StandardButton) -> str:
    """Answer the question titled ``title`` (waiting for it); its text."""
    box = await wait_until(
        lambda: isinstance(window.dialogs.current, QMessageBox) and window.dialogs.current
    )
    assert isinstance(box, QMessageBox) and box.windowTitle() == title, box.windowTitle()
    text = box.text()
    QTest.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.dialogs.current is not box)
    return text


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    config = EmulatorConfig(connect_timeout=2.0, daily_platform_events=40, users=users())
    async with Emulator(config) as emu:
        yield emu


async def test_the_meter_shows_the_org_and_a_costly_replay_asks_first(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (CHANNEL,))
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    meter = window.limits.meter
    await wait_until(lambda: meter.isVisible() and "deliveries left" in meter.text())
    assert meter.text() == "40 of 40 deliveries left"
    tip = meter.toolTip()
    assert DELIVERY in tip and "DailyDurableStreamingApiEvents" in tip

    # 30 events delivered to us spend 30 of the 40; the next poll says so
    for n in range(30):
        emulator.org.publish_any(CHANNEL, {"Order_Number__c": f"O-{n}"})
    await wait_until(lambda: window.model.rowCount() == 30, what="30 events captured")
    assert emulator.org.limits()[DELIVERY]["Remaining"] == 10
    await wait_until(lambda: window.profile is not None and window.profile.is_production)
    timer = window.limits.timer  # polled every 5 minutes while connected: a tick now
    assert timer.isActive() and timer.interval() == 5 * 60 * 1000
    timer.timeout.emit()
    await wait_until(lambda: meter.text() == "10 of 40 deliveries left", what="polled again")

    # replaying them would re-deliver about 30: more than the 10 left, so it asks (after
    # the question every production org gets: the emulator's org says it is production)
    window.replay_action.trigger()
    await answer(window, PRODUCTION, YES)
    text = await answer(window, REPLAY_TITLE, NO)
    assert "30 events" in text and "10 of 40" in text
    assert window.dialogs.current is None
    assert window.controller.replay is None  # nothing replayed
    assert emulator.org.limits()[DELIVERY]["Remaining"] == 10  # nothing spent
    await window.controller.disconnect_profile()
    await wait_until(lambda: not meter.isVisible(), what="the meter hidden when disconnected")
    assert not timer.isActive()


async def test_a_replay_that_fits_goes_ahead_without_a_question(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (CHANNEL,))
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: "40 of 40" in window.limits.meter.text())
    await wait_until(lambda: window.profile is not None and window.profile.is_production)
    for n in range(3):
        emulator.org.publish_any(CHANNEL, {"Order_Number__c": f"O-{n}"})
    await wait_until(lambda: window.model.rowCount() == 3)
    window.replay_action.trigger()
    await answer(window, PRODUCTION, YES)  # and no question of the limits
    await wait_until(
        lambda: emulator.org.limits()[DELIVERY]["Remaining"] == 34, what="3 re-delivered"
    )
    assert window.dialogs.current is None
    await window.controller.disconnect_profile()


async def test_without_view_setup_the_meter_says_so(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (CHANNEL,))
    profile.username = LIMITED
    profile = store.save_profile(profile)
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    meter = window.limits.meter
    await wait_until(lambda: meter.isVisible() and meter.text() != "limits …")
    assert "View Setup" in meter.text()
    await window.controller.disconnect_profile()
