"""Channels in the window (issue 18): colour chips in the sidebar and on the table's channel
cell, the same after a restart (a person's choice kept per profile), hide-from-view that
keeps capturing, unread counts, and rates with their sparklines. Real emulator over
loopback, real capture store, real settings file."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QColorDialog

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, EventQuery, Profile
from sfmonitor.ui.channel_colors import default_color
from sfmonitor.ui.channel_view import profile_key
from sfmonitor.ui.main_window import MainWindow
from sfmonitor.ui.sparkline import VALUES_ROLE
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until
from tests.helpers.windows import a_window

pytestmark = pytest.mark.asyncio
NEWS, ALERTS, ORDERS = "/u/news", "/u/alerts", "/event/Low_Ink__e"
CHANNELS = (NEWS, ALERTS, ORDERS)


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        yield emu


async def connected(window: MainWindow, store: CaptureStore, emu: Emulator) -> Profile:
    profile = save_emulator_profile(store, emu.url, CHANNELS)
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: all("live" in text(window, ch) for ch in CHANNELS), 20)
    return profile


def text(window: MainWindow, channel: str) -> str:
    item = window.sidebar.item_of(channel)
    return item.text() if item is not None else ""


def rate(window: MainWindow, channel: str) -> float:
    """The events/min the sidebar line says (0 when it says none)."""
    found = re.search(r"· ([\d.]+)(k?)/min", text(window, channel))
    return float(found.group(1)) * (1000 if found.group(2) else 1) if found else 0.0


def chip_of(window: MainWindow, channel: str) -> str:
    """The colour the table's channel cell and the sidebar paint for ``channel``."""
    return window.channel_colors.color(channel).name()


async def test_colours_are_stable_across_restarts_and_a_choice_is_kept(
    window: MainWindow, store: CaptureStore, emulator: Emulator, tmp_path: Path, qtbot: Any
) -> None:
    profile = await connected(window, store, emulator)
    emulator.org.publish_any(NEWS, "hello")
    await wait_until(lambda: window.model.rowCount() == 1 and window.model.row_at(0) is not None)
    channel_cell = window.model.index(0, 1)
    assert channel_cell.data() == NEWS
    assert isinstance(channel_cell.data(Qt.ItemDataRole.DecorationRole), QIcon)  # the chip
    before = {ch: chip_of(window, ch) for ch in CHANNELS}
    assert before[ALERTS] == default_color(ALERTS)  # from the name: the same on any machine
    window.channel_colors.set_override(NEWS, "#ff00aa")  # a person's choice
    assert chip_of(window, NEWS) == "#ff00aa"
    await window.shutdown()

    async with a_window(store, tmp_path / "settings.ini") as again:
        await again.show_profile(profile)
        after = {ch: chip_of(again, ch) for ch in CHANNELS}
        assert after == {**before, NEWS: "#ff00aa"}
        await again.model.settle()
        await wait_until(lambda: again.model.row_at(0) is not None)
        icon = again.model.index(0, 1).data(Qt.ItemDataRole.DecorationRole)
        assert isinstance(icon, QIcon) and not icon.isNull()
        again.channel_colors.set_override(NEWS, None)  # back to the default
        assert chip_of(again, NEWS) == before[NEWS]


async def test_a_hidden_channel_is_still_captured_and_counted_unread(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = await connected(window, store, emulator)
    assert profile.id is not None
    await wait_until(lambda: window.looks.channels.counted, 10, "the counts read once")
    window.sidebar.hide_requested.emit([ALERTS], True)  # as the sidebar's menu does
    assert ALERTS in window.timeline.hidden and "hidden" in text(window, ALERTS)
    for n in range(3):
        emulator.org.publish_any(ALERTS, f"alert {n}")
    emulator.org.publish_any(NEWS, "news")
    alerts = EventQuery(profile.id, channels=frozenset({ALERTS}))
    await wait_until(lambda: store.count(alerts) == 3, 20, "the hidden channel is captured")
    await wait_until(lambda: window.model.rowCount() == 1)
    await window.model.settle()
    assert window.model.row_at(0) is not None and window.model.row_at(0).channel == NEWS  # type: ignore[union-attr]
    await wait_until(lambda: "3 unread" in text(window, ALERTS), 10, "unread while hidden")
    assert window.looks.channels.unread(NEWS) == 0  # shown and followed: looked at

    window.sidebar.list.setCurrentItem(window.sidebar.item_of(ALERTS))  # selected: shown
    await wait_until(lambda: window.model.rowCount() == 3)
    await wait_until(lambda: window.looks.channels.unread(ALERTS) == 0, 10, "looked at")
    window.sidebar.list.clearSelection()
    window.sidebar.hide_requested.emit([ALERTS], False)
    await wait_until(lambda: window.model.rowCount() == 4)
    assert "hidden" not in text(window, ALERTS)


async def test_hidden_channels_and_unread_marks_are_kept_per_profile(
    window: MainWindow, store: CaptureStore, emulator: Emulator, tmp_path: Path
) -> None:
    profile = await connected(window, store, emulator)
    window.sidebar.hide_requested.emit([ORDERS], True)
    await window.shutdown()
    async with a_window(store, tmp_path / "settings.ini") as again:
        await again.show_profile(profile)
        assert again.looks.channels.hidden == frozenset({ORDERS})
        assert again.model.query.exclude_channels == frozenset({ORDERS})


async def test_each_channel_shows_its_rate_and_sparkline(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    await connected(window, store, emulator)
    await wait_until(lambda: window.looks.channels.counted, 10, "the counts read once")
    for n in range(5):
        emulator.org.publish_any(NEWS, f"n{n}")
    await wait_until(lambda: "5 events" in text(window, NEWS), 20)
    await wait_until(lambda: rate(window, NEWS) > 0, 10, "a rate")
    item = window.sidebar.item_of(NEWS)
    assert item is not None
    values = item.data(VALUES_ROLE)
    assert values and sum(values) == 5  # the last ten minutes, 5 of them just now


async def test_another_colour_chosen_from_the_sidebar_is_kept(
    window: MainWindow, store: CaptureStore
) -> None:
    profile = save_emulator_profile(store, "http://127.0.0.1:9", CHANNELS)  # not connected
    await window.show_profile(profile)
    window.sidebar.color_requested.emit(NEWS)  # the sidebar's "Other colour…"
    await wait_until(lambda: isinstance(window.dialogs.current, QColorDialog))
    dialog = window.dialogs.current
    assert isinstance(dialog, QColorDialog)
    dialog.setCurrentColor(QColor("#123456"))
    dialog.accept()
    await wait_until(lambda: chip_of(window, NEWS) == "#123456")
    saved = window.settings.value(f"{profile_key(window, profile)}/channel_colors")
    assert isinstance(saved, str) and "#123456" in saved
    item = window.sidebar.item_of(NEWS)
    assert item is not None and not item.icon().isNull()
