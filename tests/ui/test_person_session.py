"""A person's session: the real window on the demo, driven by key presses and clicks on the
live dialogs while events flow. After every step the capture must still be storing.

Each dialog here was once opened with a nested event loop inside an asyncio task, which
froze every other task on the qasync loop: capture stopped silently, Disconnect did nothing
and Quit never exited. These steps fail (the count stops growing) if that comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from sfmonitor.store import CaptureStore
from sfmonitor.ui.dialogs import ChannelDialog
from sfmonitor.ui.main_window import MainWindow
from sfmonitor.ui.modal import LAST_FOLDER
from tests.helpers.waiting import wait_until

CTRL = Qt.KeyboardModifier.ControlModifier


def stored(store: CaptureStore, window: MainWindow) -> int:
    assert window.demo is not None and window.demo.profile.id is not None
    return sum(store.channel_counts(window.demo.profile.id).values())


async def still_capturing(store: CaptureStore, window: MainWindow, step: str) -> None:
    """The stored count grows after ``step`` (the demo publishes several events a second)."""
    before = stored(store, window)
    try:
        await wait_until(lambda: stored(store, window) >= before + 3, timeout=20)
    except TimeoutError:
        raise AssertionError(f"capture stopped after: {step}") from None


async def dialog_of(window: MainWindow, kind: type[QDialog]) -> Any:
    await wait_until(
        lambda: isinstance(window.dialogs.current, kind) and window.dialogs.current.isVisible()
    )
    return window.dialogs.current


def press(
    widget: QWidget, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    QTest.keyClick(widget, key, modifier)


async def activate(window: MainWindow) -> None:
    """Back in the main window after a dialog, as a person would be."""
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window)


async def shortcut(window: MainWindow, key: Qt.Key) -> None:
    """Ctrl+key on the window, as typed."""
    await activate(window)
    press(window, key, CTRL)


async def type_file_name(window: MainWindow, path: Path) -> None:
    dialog = await dialog_of(window, QFileDialog)
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name is not None
    name.selectAll()
    QTest.keyClicks(name, str(path))
    press(name, Qt.Key.Key_Return)


def button(box: QMessageBox, text: str) -> QAbstractButton:
    return next(b for b in box.buttons() if b.text() == text)


@pytest.mark.asyncio
@pytest.mark.timeout(240)
async def test_a_person_exports_opens_edits_channels_replays_and_quits(
    window: MainWindow, store: CaptureStore, tmp_path: Path
) -> None:
    QTest.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.controller.live, timeout=20)
    await still_capturing(store, window, "starting the demo")

    # Export: Ctrl+E, Enter on "which events", a file name typed into the file dialog
    target = tmp_path / "exported.json"
    await shortcut(window, Qt.Key.Key_E)
    press(await dialog_of(window, QInputDialog), Qt.Key.Key_Return)
    await type_file_name(window, target)
    await wait_until(lambda: "Exported" in window.status.activity(), timeout=30)
    assert str(target) in window.status.activity() and target.stat().st_size > 0
    assert window.settings.value(LAST_FOLDER) == str(tmp_path)  # the next dialog starts here
    await still_capturing(store, window, "exporting through the dialogs")

    # Open that export: Ctrl+O, the file typed; the capture of the demo goes on
    await shortcut(window, Qt.Key.Key_O)
    await type_file_name(window, target)
    await wait_until(lambda: window.profile is not None and window.profile.read_only)
    await still_capturing(store, window, "opening an export")
    window.demo_action.trigger()  # back to the demo, from the Profiles menu
    await wait_until(lambda: window.profile == window.demo.profile)

    # Add a channel, remove it (Delete in the sidebar, then the button), add it again
    channel = "/u/notifications"
    await activate(window)
    sidebar = window.sidebar.list
    item = sidebar.item(window.sidebar.channels().index(channel))
    QTest.mouseClick(
        sidebar.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.visualItemRect(item).center()
    )
    assert window.sidebar.selected() == [channel]
    press(sidebar, Qt.Key.Key_Delete)
    box = await dialog_of(window, QMessageBox)
    QTest.mouseClick(button(box, "Remove, keep events"), Qt.MouseButton.LeftButton)
    await wait_until(lambda: channel not in window.sidebar.channels())
    await still_capturing(store, window, "removing a channel")
    window.sidebar.list.clearSelection()
    await shortcut(window, Qt.Key.Key_N)
    dialog = await dialog_of(window, ChannelDialog)
    QTest.keyClicks(dialog.channel, channel)
    press(dialog.channel, Qt.Key.Key_Return)
    await wait_until(lambda: channel in window.sidebar.channels())
    await wait_until(
        lambda: "live" in window.sidebar.list.item(window.sidebar.channels().index(channel)).text(),
        timeout=20,
    )
    await still_capturing(store, window, "adding a channel again")

    # A channel already there is said so in the dialog, which stays open
    await shortcut(window, Qt.Key.Key_N)
    dialog = await dialog_of(window, ChannelDialog)
    QTest.keyClicks(dialog.channel, channel)
    press(dialog.channel, Qt.Key.Key_Return)
    assert dialog.isVisible() and "already" in dialog.errors.text()
    press(dialog, Qt.Key.Key_Escape)
    await wait_until(lambda: window.dialogs.current is None)

    # Replay every channel (nothing selected): progress, then a summary
    await shortcut(window, Qt.Key.Key_R)
    await wait_until(lambda: window.status.activity().startswith("Replaying"), timeout=10)
    channels = len(window.sidebar.channels())
    await still_capturing(store, window, "replaying")
    await wait_until(lambda: window.status.activity().startswith("Replayed"), timeout=60)
    assert f"on {channels} channels" in window.status.activity()

    # Quit: the window closes and the capture is stopped cleanly (the app then ends with
    # its last window; here the test's loop must outlive it)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    try:
        await shortcut(window, Qt.Key.Key_Q)
        await wait_until(lambda: not window.isVisible(), timeout=30)
    finally:
        app.setQuitOnLastWindowClosed(True)
    assert not window.controller.connected and window.demo is None
