"""Every login kind through the window, against the emulator over loopback: the browser
login (``$BROWSER`` is a stand-in that opens the address, the emulator approves at once),
an org of the Salesforce CLI (a fake ``sf`` on PATH), a certificate chosen in the file
dialog, client credentials; the refusals in words (a port in use, a blocked password
login, a revoked refresh token); who and where the login is in the status bar, and an org
that says it is production marked so whatever its URL."""

from __future__ import annotations

import socket
import webbrowser
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)
from sfmonitor.emulator.oauth import register_app
from sfmonitor.store import AuthKind, CaptureStore, Environment, Profile, Secrets, Subscription
from sfmonitor.ui.main_window import MainWindow
from sfmonitor.ui.profile_dialog import ProfileDialog
from tests.auth.conftest import free_port
from tests.auth.test_sfcli import FakeSf
from tests.auth.test_sources import certificate_of, make_key, write_key
from tests.helpers.browser import StandInBrowser, stand_in_browser
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
ORG_LINE = f"{DEFAULT_USERNAME} · sfmonitor emulator (production)"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0, auto_approve=True)) as emu:
        yield emu


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandInBrowser:
    """``$BROWSER`` names the stand-in (``webbrowser`` reads it once per process: forget
    what it read before)."""
    stand_in = stand_in_browser(tmp_path / "browser")
    monkeypatch.setenv("BROWSER", str(stand_in.path))
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    return stand_in


async def new_profile_dialog(window: MainWindow, name: str, kind: AuthKind) -> ProfileDialog:
    window.new_profile_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, ProfileDialog))
    dialog = window.dialogs.current
    assert isinstance(dialog, ProfileDialog)
    type_into(dialog.name, name)
    button = dialog.kind_buttons[kind]  # a click on its round button, as a person does
    at = QPoint(8, button.height() // 2)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert dialog.kind() is kind
    return dialog


def type_into(field: QLineEdit, text: str) -> None:
    field.clear()
    QTest.keyClicks(field, text)


def at_url(dialog: ProfileDialog, url: str) -> None:
    dialog.environment.setCurrentIndex(2)  # My Domain or another login URL
    type_into(dialog.login_url, url)


async def accepted_and_live(window: MainWindow, dialog: ProfileDialog) -> None:
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.errors.text() == ""
    await wait_until(lambda: window.controller.live, timeout=20)


async def shows_the_org(window: MainWindow) -> None:
    """The status bar says who and where (the org's own word), production marked."""
    await wait_until(lambda: ORG_LINE in window.status.profile_label.text(), timeout=20)
    assert window.status.production_label.isVisibleTo(window.status)
    assert window.windowTitle().endswith("[PRODUCTION]")


async def test_browser_login_in_the_dialog_then_capture(
    window: MainWindow,
    emulator: Emulator,
    browser: StandInBrowser,
    store: CaptureStore,
    tmp_path: Path,
) -> None:
    port = free_port()
    emulator.org.apps[DEFAULT_CLIENT_ID].callback_urls.append(
        f"http://localhost:{port}/OauthRedirect"
    )
    dialog = await new_profile_dialog(window, "Acme", AuthKind.WEB)
    at_url(dialog, emulator.url)
    assert not dialog.production_note.isVisibleTo(dialog)  # a My Domain URL says nothing
    type_into(dialog.client_id, DEFAULT_CLIENT_ID)
    dialog.callback_port.setValue(port)
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # not logged in yet: said, not saved
    assert "Log in with the browser" in dialog.errors.text() and dialog.isVisible()
    QTest.mouseClick(dialog.browser.button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: dialog.browser.result is not None, timeout=20)
    assert dialog.browser.status.text() == f"Logged in as {ORG_LINE}"
    seen = browser.seen()
    assert seen[0].startswith(f"{emulator.url}/services/oauth2/authorize?")  # $BROWSER opened
    assert seen[1].startswith(f"http://localhost:{port}/OauthRedirect?code=")
    assert dialog.production_note.isVisibleTo(dialog)  # the org said so
    type_into(dialog.client_id, "another-app")  # that login was not for this app
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert "Log in with the browser (the button above) again" in dialog.errors.text()
    type_into(dialog.client_id, DEFAULT_CLIENT_ID)
    await accepted_and_live(window, dialog)
    await shows_the_org(window)
    profile = store.profile("Acme")
    assert profile is not None and profile.auth_kind is AuthKind.WEB
    assert profile.org.kind == "production" and profile.org.org_id == emulator.org.org_id
    kept = window.vault.load("Acme")
    assert kept is not None and kept.refresh_token in emulator.org.refresh_tokens
    assert kept.password == kept.client_secret == ""  # a public client: no secret
    window.save_layout()  # the settings file is written
    code = seen[1].split("code=")[1].split("&")[0]
    for path in (tmp_path / "settings.ini", tmp_path / "data" / "capture.db"):
        data = path.read_bytes()
        for secret in (kept.refresh_token, code, *emulator.org.access_tokens):
            assert secret.encode() not in data


async def test_cancel_and_a_busy_port_are_said_inline(
    window: MainWindow, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.org.config.auto_approve = False  # the login page waits for a person
    monkeypatch.setenv("BROWSER", "true")  # a browser that shows nothing
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    port = free_port()
    dialog = await new_profile_dialog(window, "Acme", AuthKind.WEB)
    at_url(dialog, emulator.url)
    type_into(dialog.client_id, DEFAULT_CLIENT_ID)
    dialog.callback_port.setValue(port)
    QTest.mouseClick(dialog.browser.button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: dialog.browser.address.isVisibleTo(dialog))
    assert dialog.browser.url.text().startswith(f"{emulator.url}/services/oauth2/authorize?")
    assert window.controller is not None  # the window's loop turns meanwhile
    QTest.mouseClick(dialog.browser.cancel_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: dialog.browser.status.text() == "Login cancelled.")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))  # the receiver let its port go
        busy.listen()
        QTest.mouseClick(dialog.browser.button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: dialog.browser.error.isVisibleTo(dialog))
    error = dialog.browser.error.text()
    assert f"port {port} on 127.0.0.1 is in use" in error and "callback port" in error
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    await wait_until(lambda: window.dialogs.current is None)


async def test_an_org_of_the_salesforce_cli(
    window: MainWindow,
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    store: CaptureStore,
) -> None:
    fake = FakeSf(tmp_path, emulator)
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    monkeypatch.setenv("PATH", str(fake.bin))
    dialog = await new_profile_dialog(window, "From sf", AuthKind.SF_CLI)
    assert not dialog.login_url.isVisibleTo(dialog)  # the CLI knows where its org is
    await wait_until(lambda: dialog.sf_org.combo.count() == 2, timeout=20)
    assert str(fake.path) in dialog.sf_org.note.text()  # which sf was asked
    assert dialog.sf_org.target() == "emu"
    await accepted_and_live(window, dialog)
    await shows_the_org(window)
    profile = store.profile("From sf")
    assert profile is not None and profile.sf_org == "emu" and profile.login_url == emulator.url
    assert window.vault.load("From sf") is None  # nothing of the CLI's login is copied
    assert ["org", "display", "--target-org", "emu"] in fake.calls()


async def test_a_certificate_chosen_in_the_file_dialog(
    window: MainWindow, emulator: Emulator, tmp_path: Path, store: CaptureStore
) -> None:
    key = make_key()
    register_app(emulator.org, {"client_id": "jwt-app", "certificate": certificate_of(key)})
    key_file = write_key(key, tmp_path / "capture.key")
    dialog = await new_profile_dialog(window, "Unattended", AuthKind.JWT)
    at_url(dialog, emulator.url)
    type_into(dialog.client_id, "jwt-app")
    type_into(dialog.username, DEFAULT_USERNAME)
    QTest.mouseClick(dialog.choose_key, Qt.MouseButton.LeftButton)
    await wait_until(lambda: isinstance(dialog.dialogs.current, QFileDialog))
    chooser: Any = dialog.dialogs.current
    name = chooser.findChild(QLineEdit, "fileNameEdit")
    type_into(name, str(key_file))
    QTest.keyClick(name, Qt.Key.Key_Return)
    await wait_until(lambda: dialog.key_file.text() == str(key_file))
    await accepted_and_live(window, dialog)
    await shows_the_org(window)
    profile = store.profile("Unattended")
    assert profile is not None and profile.key_file == str(key_file)
    assert window.vault.load("Unattended") is None  # the key stays in its file


async def test_client_credentials(
    window: MainWindow, emulator: Emulator, store: CaptureStore
) -> None:
    dialog = await new_profile_dialog(window, "Integration", AuthKind.CLIENT_CREDENTIALS)
    at_url(dialog, emulator.url)
    type_into(dialog.client_id, DEFAULT_CLIENT_ID)
    type_into(dialog.client_secret, DEFAULT_CLIENT_SECRET)
    await accepted_and_live(window, dialog)
    await shows_the_org(window)
    assert window.vault.load("Integration") == Secrets(client_secret=DEFAULT_CLIENT_SECRET)


async def test_a_blocked_password_login_offers_the_browser_in_words(
    window: MainWindow, emulator: Emulator
) -> None:
    emulator.org.config.block_password_flow = True
    dialog = await new_profile_dialog(window, "Old way", AuthKind.PASSWORD)
    at_url(dialog, emulator.url)
    type_into(dialog.username, DEFAULT_USERNAME)
    type_into(dialog.password, DEFAULT_PASSWORD)
    type_into(dialog.client_id, DEFAULT_CLIENT_ID)
    type_into(dialog.client_secret, DEFAULT_CLIENT_SECRET)
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    await wait_until(lambda: window.status.state_label.text() == "Login failed", timeout=20)
    problem = window.status.problem()
    assert "invalid_grant: authentication failure" in problem
    assert "blocks the username-password login" in problem
    assert "Log in with your browser instead: Profiles ▸ Edit profile…" in problem


async def saved_profile(store: CaptureStore, window: MainWindow, profile: Profile) -> Profile:
    saved = store.save_profile(profile)
    assert saved.id is not None
    store.set_subscription(saved.id, Subscription("/u/news"))
    return saved


async def test_a_revoked_refresh_token_says_log_in_again(
    window: MainWindow, emulator: Emulator, store: CaptureStore
) -> None:
    profile = await saved_profile(
        store,
        window,
        Profile(
            "Revoked", Environment.CUSTOM, emulator.url, AuthKind.WEB, client_id=DEFAULT_CLIENT_ID
        ),
    )
    window.vault.save(profile.name, Secrets(refresh_token=DEFAULT_REFRESH_TOKEN))
    emulator.revoke_tokens(refresh=True)
    await window.profiles.open_saved(profile)
    await wait_until(lambda: window.status.state_label.text() == "Login failed", timeout=20)
    problem = window.status.problem()
    assert "invalid_grant: expired access/refresh token" in problem
    assert "Log in again: Profiles ▸ Edit profile…, then Log in with browser…" in problem


async def test_an_org_on_my_domain_that_says_production_asks_before_a_replay(
    window: MainWindow, emulator: Emulator, store: CaptureStore
) -> None:
    profile = await saved_profile(
        store,
        window,
        Profile(
            "My Domain",
            Environment.CUSTOM,
            emulator.url,
            AuthKind.CLIENT_CREDENTIALS,
            client_id=DEFAULT_CLIENT_ID,
        ),
    )
    assert not profile.is_production  # its URL says nothing
    window.vault.save(profile.name, Secrets(client_secret=DEFAULT_CLIENT_SECRET))
    await window.profiles.open_saved(profile)
    await wait_until(lambda: window.controller.live, timeout=20)
    await shows_the_org(window)
    kept = store.profile("My Domain")
    assert kept is not None and kept.is_production  # the org's word is kept for next time
    await wait_until(
        lambda: any("[PRODUCTION]" in a.text() for a in window.profiles_menu.actions())
    )
    window.sidebar.list.setCurrentRow(0)
    window.replay_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, QMessageBox))
    box: Any = window.dialogs.current
    assert box.windowTitle() == "Replay in a production org?"
    QTest.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.dialogs.current is None)
    assert window.controller.replay is None  # nothing replayed
