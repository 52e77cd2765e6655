"""“Publish…” in the window against the emulator: the form from the event's describe, a
production org asks first, Salesforce's answer (the EventUuid) in the status bar, the
delivered event selected in the table when it arrives, the payload kept in the history;
a generic channel gets a push."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, notes
from sfmonitor.ui.main_window import MainWindow
from sfmonitor.ui.publish_dialog import PublishDialog
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
SHIPMENT = "/event/Shipment_Update__e"
GENERIC = "/u/notifications"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(catalog="demo", connect_timeout=2.0)) as emu:
        yield emu


def select(window: MainWindow, channel: str) -> None:
    sidebar = window.sidebar.list
    sidebar.clearSelection()
    sidebar.item(window.sidebar.channels().index(channel)).setSelected(True)


async def the_publish_dialog(window: MainWindow) -> PublishDialog:
    dialog = await wait_until(
        lambda: isinstance(window.dialogs.current, PublishDialog) and window.dialogs.current
    )
    assert isinstance(dialog, PublishDialog)
    return dialog


async def say_yes_to_production(window: MainWindow) -> None:
    box = await wait_until(
        lambda: isinstance(window.dialogs.current, QMessageBox) and window.dialogs.current
    )
    assert isinstance(box, QMessageBox) and box.windowTitle() == "Publish in a production org?"
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)


async def test_publish_shows_the_uuid_and_selects_the_delivered_event(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (GENERIC, SHIPMENT))
    assert profile.id is not None
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: window.controller.live)
    # the org's own word: production (a custom login URL says nothing of it)
    await wait_until(lambda: window.profile is not None and window.profile.is_production)
    emulator.org.publish_any(SHIPMENT, {"Tracking_Number__c": "EARLIER"})
    await wait_until(lambda: window.model.rowCount() == 1)
    said: list[str] = []
    show = window.status.show_activity
    window.status.show_activity = lambda text: (said.append(text), show(text))  # type: ignore[method-assign]
    select(window, SHIPMENT)
    window.publish_action.trigger()
    dialog = await the_publish_dialog(window)
    assert dialog.form is not None and dialog.form.channel == SHIPMENT
    dialog.editors["Tracking_Number__c"].set_value("TRK-42")
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    await say_yes_to_production(window)  # the emulator's org says it is production

    # Salesforce's answer in the status bar, then the event selected once delivered
    await wait_until(lambda: window.model.rowCount() == 2, what="the published event")
    await wait_until(lambda: window.publishing.delivered.found_row is not None)
    row = window.model.row_at(window.publishing.delivered.found_row or 0)
    assert row is not None and row.channel == SHIPMENT
    stored = store.event(row.id)
    assert stored is not None and stored.raw is not None and "TRK-42" in stored.raw
    selected = window.table.selectionModel().selectedRows()
    assert [i.row() for i in selected] == [window.publishing.delivered.found_row]
    assert "Delivered on " + SHIPMENT in window.status.activity()
    last = emulator.org.channels[SHIPMENT].events[-1]
    assert last.event_uuid and row.event_uuid == last.event_uuid
    assert f"Published to {SHIPMENT}: EventUuid {last.event_uuid}" in said
    # the payload is kept for this profile and channel
    history = notes.texts(store, profile.id, notes.publish_key(SHIPMENT))
    assert len(history) == 1 and "TRK-42" in history[0]
    # the view pauses on it: more traffic does not scroll it away
    assert window.follow.paused
    for i in range(60):
        emulator.org.publish_any(SHIPMENT, {"Tracking_Number__c": f"LATER {i}"})
    await wait_until(lambda: window.model.rowCount() == 62, what="the later events")
    shown = window.table.visualRect(window.model.index(window.publishing.delivered.found_row, 0))
    assert window.table.viewport().rect().intersects(shown)
    await window.controller.disconnect_profile()


async def test_a_generic_channel_is_pushed_and_a_cancel_sends_nothing(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, (GENERIC, SHIPMENT))
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: window.controller.live)
    await wait_until(lambda: window.profile is not None and window.profile.is_production)
    window.sidebar.list.clearSelection()
    window.publish_action.trigger()  # nothing selected: which channel?
    choice = await wait_until(
        lambda: isinstance(window.dialogs.current, QInputDialog) and window.dialogs.current
    )
    assert isinstance(choice, QInputDialog) and GENERIC in choice.comboBoxItems()
    choice.setTextValue(GENERIC)
    choice.accept()
    dialog = await the_publish_dialog(window)
    assert dialog.form is None and dialog.channel == GENERIC
    assert dialog.payload_text is not None
    dialog.payload_text.setPlainText("a pushed notice")
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    await say_yes_to_production(window)
    await wait_until(lambda: window.model.rowCount() == 1, what="the pushed event")
    pushed = window.model.row_at(0)
    assert pushed is not None and pushed.channel == GENERIC
    stored = store.event(pushed.id)
    assert stored is not None and "a pushed notice" in (stored.raw or "")

    select(window, GENERIC)
    window.publish_action.trigger()
    again = await the_publish_dialog(window)
    assert again.past.count() == 1  # what was sent before
    again.reject()
    await wait_until(lambda: window.dialogs.current is None)
    assert window.model.rowCount() == 1  # cancelled: nothing sent
    await window.controller.disconnect_profile()
