"""Profiles as a person handles them: Connect reconnects what is on screen, a refused
keyring keeps what was typed, the demo reopens as the demo, profiles are edited,
duplicated and deleted (an opened export too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
import pytest_asyncio
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from sfmonitor.capture.demo import DEMO_PROFILE
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from sfmonitor.store import AuthKind, CaptureStore, Environment, Profile
from sfmonitor.ui.dialogs import ProfileDialog
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        yield emu


async def profile_dialog(window: MainWindow) -> ProfileDialog:
    await wait_until(
        lambda: (
            isinstance(window.dialogs.current, ProfileDialog) and window.dialogs.current.isVisible()
        )
    )
    dialog = window.dialogs.current
    assert isinstance(dialog, ProfileDialog)
    return dialog


def choose_kind(dialog: ProfileDialog, kind: AuthKind) -> None:
    """Click the kind's round button (its label is shorter than the row)."""
    button = dialog.kind_buttons[kind]
    at = QPoint(8, button.height() // 2)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert dialog.kind() is kind


def type_into(field: Any, text: str) -> None:
    field.clear()
    QTest.keyClicks(field, text)


async def test_connect_reconnects_the_profile_on_screen_without_a_form(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, ("/u/news",), "Saved org")
    window.vault.save(profile.name, DEMO_SECRETS)
    await window.profiles.open_profile(profile, None)  # shown, not connected
    assert not window.controller.connected and window.connect_action.isEnabled()
    window.connect_action.trigger()
    await wait_until(lambda: window.controller.live, timeout=20)
    assert window.dialogs.current is None  # no blank new-profile form
    assert not window.connect_action.isEnabled() and window.replay_action.isEnabled()


async def test_a_refused_keyring_brings_the_form_back_with_the_input_kept(
    window: MainWindow, emulator: Emulator
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    window.new_profile_action.trigger()
    dialog = await profile_dialog(window)
    type_into(dialog.name, "Keyringless")
    choose_kind(dialog, AuthKind.PASSWORD)
    dialog.environment.setCurrentIndex(2)
    type_into(dialog.login_url, emulator.url)
    type_into(dialog.username, DEFAULT_USERNAME)
    type_into(dialog.password, DEFAULT_PASSWORD)
    type_into(dialog.client_id, DEFAULT_CLIENT_ID)
    type_into(dialog.client_secret, DEFAULT_CLIENT_SECRET)
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    await wait_until(lambda: dialog.keyring_note.isVisibleTo(dialog) and dialog.isVisible())
    assert dialog.session_only.isChecked()
    assert dialog.name.text() == "Keyringless" and dialog.password.text() == DEFAULT_PASSWORD
    assert dialog.client_secret.text() == DEFAULT_CLIENT_SECRET
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # this session only
    await wait_until(lambda: window.controller.live, timeout=20)
    assert window.profile is not None and window.profile.name == "Keyringless"


async def test_the_demo_profile_reopens_as_the_demo(
    window: MainWindow, store: CaptureStore
) -> None:
    # a Demo profile saved by an earlier run, pointing at an emulator long gone
    old = store.save_profile(
        Profile(DEMO_PROFILE, Environment.DEMO, "http://127.0.0.1:9", username="demo")
    )
    await window.profiles.open_saved(old)
    await wait_until(lambda: window.controller.live, timeout=20)
    assert window.demo is not None and window.dialogs.current is None
    assert window.profile is not None and window.profile.environment is Environment.DEMO
    assert not window.profile.is_production
    assert not window.edit_profile_action.isEnabled()  # nothing to edit: it is the demo


async def test_edit_duplicate_and_delete_profiles(
    window: MainWindow, store: CaptureStore, emulator: Emulator, tmp_path: Path
) -> None:
    profile = save_emulator_profile(store, emulator.url, ("/u/news", "/u/other"), "Acme")
    window.vault.save(profile.name, DEMO_SECRETS)
    await window.profiles.open_profile(profile, None)

    window.edit_profile_action.trigger()  # rename; the secrets stay as stored
    dialog = await profile_dialog(window)
    assert dialog.password.text() == "" and "unchanged" in dialog.password.placeholderText()
    type_into(dialog.name, "Acme dev")
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    await wait_until(lambda: window.controller.live, timeout=20)
    assert [p.name for p in store.profiles()] == ["Acme dev"]
    assert window.vault.load("Acme dev") == DEMO_SECRETS and window.vault.load("Acme") is None

    window.duplicate_profile_action.trigger()  # same org and channels under a new name
    dialog = await profile_dialog(window)
    assert dialog.name.text() == "Acme dev copy"
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    await wait_until(lambda: window.profile is not None and window.profile.name == "Acme dev copy")
    copy = store.profile("Acme dev copy")
    assert copy is not None and copy.id is not None
    assert [s.channel for s in store.subscriptions(copy.id)] == ["/u/news", "/u/other"]
    assert window.vault.load("Acme dev copy") == DEMO_SECRETS

    window.edit_profile_action.trigger()  # a name another profile has is refused inline
    dialog = await profile_dialog(window)
    type_into(dialog.name, "Acme dev")
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and "Another profile" in dialog.errors.text()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    await wait_until(lambda: window.dialogs.current is None)

    window.delete_profile_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, QMessageBox))
    box: Any = window.dialogs.current
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.profile is None)  # the whole flow has run
    assert store.profile("Acme dev copy") is None
    assert window.vault.load("Acme dev copy") is None
    menu = [a.text() for a in window.profiles_menu.actions()]
    assert not any("copy" in text for text in menu) and any("Acme dev" in t for t in menu)
