"""“Add channels…” in the window, over a real discovery of the emulator's demo org: a profile
with no channels opens it once connected; search, all of a kind, many channels subscribed at
once and live; the discovery kept per profile (shown at once next time) and Refresh."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from sfmonitor.discovery import Discovery, Kind
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, notes
from sfmonitor.ui.discovery_dialog import DiscoveryDialog
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
GENERIC = ["/u/deployments", "/u/notifications", "/u/notifications/ExampleUserChannel"]
SHIPMENT = "/event/Shipment_Update__e"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(catalog="demo", connect_timeout=2.0)) as emu:
        yield emu


def shown(dialog: DiscoveryDialog) -> list[str]:
    tree = dialog.tree
    return [
        name
        for name, row in tree.rows.items()
        if not row.item.isHidden() and not tree.groups[row.channel.kind].item.isHidden()
    ]


async def the_dialog(window: MainWindow) -> DiscoveryDialog:
    dialog = await wait_until(
        lambda: isinstance(window.dialogs.current, DiscoveryDialog) and window.dialogs.current
    )
    assert isinstance(dialog, DiscoveryDialog)
    await wait_until(lambda: dialog.discovery is not None, what="the discovery shown")
    return dialog


def status_of(window: MainWindow, channel: str) -> str:
    for i in range(window.sidebar.list.count()):
        item = window.sidebar.list.item(i)
        if item.text().startswith(channel + "\n"):
            return item.text()
    return ""


async def test_an_empty_profile_chooses_many_channels_and_sees_them_live(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, ())
    assert profile.id is not None
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    assert window.discovery.empty.isVisible()  # the sidebar's empty state offers it too
    dialog = await the_dialog(window)  # opened by itself once connected

    # search as you type
    QTest.keyClicks(dialog.search, "shipment")
    assert SHIPMENT in shown(dialog) and "/u/deployments" not in shown(dialog)
    dialog.search.clear()
    # all generic channels at once, and one platform event
    dialog.tree.set_kind_checked(Kind.GENERIC, True)
    dialog.tree.rows[SHIPMENT].item.setCheckState(0, Qt.CheckState.Checked)
    assert sorted(c.channel for c in dialog.tree.chosen()) == sorted([*GENERIC, SHIPMENT])
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    # a name our client cannot subscribe to (a generic channel's sub-path) is said so,
    # and the others are added all the same
    box = await wait_until(
        lambda: isinstance(window.dialogs.current, QMessageBox) and window.dialogs.current
    )
    assert isinstance(box, QMessageBox) and "1 channel not added" in box.text()
    assert "/u/notifications/ExampleUserChannel" in box.informativeText()
    box.accept()
    chosen = [*GENERIC[:2], SHIPMENT]
    await wait_until(lambda: sorted(window.sidebar.channels()) == sorted(chosen))
    await wait_until(
        lambda: all("live" in status_of(window, c) for c in chosen), what="all channels live"
    )
    assert not window.discovery.empty.isVisible()
    subs = {s.channel: s.replay_policy for s in store.subscriptions(profile.id)}
    assert subs == dict.fromkeys(chosen, "new")
    for channel in GENERIC[:2]:
        emulator.org.publish_any(channel, f"hello {channel}")
    emulator.org.publish_any(SHIPMENT, {"Tracking_Number__c": "TRK-1"})
    await wait_until(lambda: window.model.rowCount() == 3, what="an event of each channel")

    # the discovery was kept for this profile: the next opening shows it at once, the
    # channels added marked so; Refresh asks the org again
    cached = notes.note(store, profile.id, notes.DISCOVERY)
    assert cached is not None and Discovery.from_json(cached).find(SHIPMENT) is not None
    emulator.org.create_streaming_channel("/u/fresh")
    window.add_channels_action.trigger()
    again = await the_dialog(window)
    assert not again.busy.isVisible() and "/u/fresh" not in again.tree.rows
    assert again.tree.rows["/u/deployments"].added
    QTest.mouseClick(again.refresh, Qt.MouseButton.LeftButton)
    await wait_until(lambda: "/u/fresh" in again.tree.rows, what="the refreshed discovery")
    again.reject()
    await wait_until(lambda: window.dialogs.current is None)
    assert sorted(window.sidebar.channels()) == sorted(chosen)  # cancelled: nothing added
    await window.controller.disconnect_profile()


async def test_a_replay_choice_applies_to_the_whole_selection(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    retained = [emulator.org.publish_any(c, f"before {c}") for c in GENERIC[:2]]
    assert all(retained)
    profile = save_emulator_profile(store, emulator.url, ("/topic/AccountUpdates",))
    assert profile.id is not None
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: window.controller.live)
    assert not window.discovery.empty.isVisible()
    window.add_channels_action.trigger()
    dialog = await the_dialog(window)
    for channel in GENERIC[:2]:
        dialog.tree.rows[channel].item.setCheckState(0, Qt.CheckState.Checked)
    dialog.replay.all.setChecked(True)
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.model.rowCount() == 2, what="the retained events replayed")
    subs = {s.channel: s.replay_policy for s in store.subscriptions(profile.id)}
    assert subs == {"/topic/AccountUpdates": "new", **dict.fromkeys(GENERIC[:2], "all")}
    await window.controller.disconnect_profile()
