"""A user's path through the dialogs: create a profile, connect, add a channel, see events;
secrets land in the keyring and nowhere else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)
from sfmonitor.store import AuthKind
from sfmonitor.ui.dialogs import ChannelDialog, ProfileDialog
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.keyring import MemoryKeyring
from tests.helpers.waiting import wait_until


@pytest.mark.asyncio
async def test_create_a_profile_connect_and_add_a_channel(
    window: MainWindow, mem_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
        window.welcome.connect_button.click()
        await wait_until(lambda: isinstance(window.dialogs.current, ProfileDialog))
        dialog = window.dialogs.current
        dialog.name.setText("Emulated org")
        dialog.kind_buttons[AuthKind.PASSWORD].click()  # the legacy login, chosen
        dialog.environment.setCurrentIndex(2)
        dialog.login_url.setText(emulator.url)
        dialog.username.setText(DEFAULT_USERNAME)
        dialog.password.setText(DEFAULT_PASSWORD)
        dialog.client_id.setText(DEFAULT_CLIENT_ID)
        dialog.client_secret.setText(DEFAULT_CLIENT_SECRET)
        dialog._accept()
        await wait_until(lambda: window.status.state_label.text() == "Live")
        scope = window.store.vault_scope  # entries are named by the capture file's id
        assert ("sfmonitor", f"profile:{scope}:Emulated org") in mem_keyring.entries

        window.add_channel_action.trigger()
        await wait_until(lambda: isinstance(window.dialogs.current, ChannelDialog))
        window.dialogs.current.channel.setText("/u/news")
        window.dialogs.current._accept()
        await wait_until(
            lambda: (
                window.sidebar.list.count() == 1 and "live" in window.sidebar.list.item(0).text()
            )
        )
        for i in range(3):
            emulator.org.publish_any("/u/news", f"hello {i}")
        await wait_until(lambda: window.model.rowCount() == 3)
        await window.model.settle()
        assert [window.model.index(i, 5).data() for i in range(3)] == [
            "hello 0",
            "hello 1",
            "hello 2",
        ]
        await window.controller.disconnect_profile()
    database = (tmp_path / "data" / "capture.db").read_bytes()
    for secret in (DEFAULT_PASSWORD, DEFAULT_CLIENT_SECRET):
        assert secret.encode() not in database
    settings = (
        (tmp_path / "settings.ini").read_text() if (tmp_path / "settings.ini").exists() else ""
    )
    assert DEFAULT_PASSWORD not in settings


def run_self_test(tmp_path: Path, env: dict[str, str], wrapper: list[str]) -> str:
    shot = tmp_path / "window.png"
    out = subprocess.run(
        [
            *wrapper,
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(tmp_path / "d"),
            "--self-test",
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert shot.stat().st_size > 10_000
    return out.stdout


def test_self_test_offscreen(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    assert "self-test ok: " in run_self_test(tmp_path, env, [])


def test_self_test_on_a_real_x_server(tmp_path: Path) -> None:
    if not shutil.which("xvfb-run"):
        pytest.skip("needs xvfb-run (apt-get install xvfb xauth)")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    out = run_self_test(tmp_path, env, ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"])
    assert "self-test ok: " in out
