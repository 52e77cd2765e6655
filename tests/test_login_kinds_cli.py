"""Every login kind from the command line, end to end, as separate processes against the
emulator over loopback: ``sfmonitor profiles add --auth KIND`` (the browser login through
a ``$BROWSER`` stand-in), then ``sfmonitor capture --profile NAME`` storing events; a
rotated refresh token kept in the keyring (a real Secret Service); a revoked one says to
run ``sfmonitor profiles login NAME`` (exit 3), which logs in again; sf-cli and jwt need
no keyring at all; a blocked password login says why (exit 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
)
from sfmonitor.emulator.oauth import register_app
from sfmonitor.store import CaptureStore, EventQuery
from tests.auth.conftest import free_port
from tests.auth.test_sfcli import FakeSf
from tests.auth.test_sources import certificate_of, make_key, write_key
from tests.helpers.browser import stand_in_browser
from tests.helpers.emulator_thread import EmulatorThread, emulator_thread
from tests.helpers.waiting import wait_until_blocking

pytestmark = pytest.mark.timeout(300)
ORG_LINE = f"{DEFAULT_USERNAME} · sfmonitor emulator (production)"
EXIT_AUTH = 3


def keyring_env(secret_service_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    keys = ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
    env = {**os.environ, **{k: secret_service_env[k] for k in keys}}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


def no_keyring_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def sfmonitor(
    folder: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sfmonitor", "--data-dir", str(folder), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.count(EventQuery())


def capture(
    folder: Path, env: dict[str, str], profile: str, publish: Callable[[], object]
) -> tuple[int, str]:
    """``capture --profile``: once subscribed, ``publish`` three events; stopped with
    SIGTERM once they are stored (or when the capture ends by itself). The exit code and
    what it printed on stderr."""
    log = folder.parent / f"capture-{profile}-{os.urandom(3).hex()}.txt"
    before = stored(folder)
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sfmonitor",
                "--data-dir",
                str(folder),
                *("capture", "--profile", profile),
            ],
            stderr=err,
            env=env,
        )
        try:
            wait_until_blocking(
                lambda: "subscribed to /u/news" in log.read_text() or proc.poll() is not None,
                60,
                "subscribed",
            )
            if proc.poll() is None:
                publish()
                wait_until_blocking(lambda: stored(folder) >= before + 3, 60, "three events")
                proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        finally:
            proc.kill()
    return proc.returncode, log.read_text()


def news(emu: EmulatorThread) -> Callable[[], object]:
    return lambda: emu.call(
        lambda: [emu.emulator.org.publish_any("/u/news", f"n{i}") for i in range(3)]
    )


def test_web_login_then_capture_rotation_revocation_and_login_again(
    tmp_path: Path, secret_service_env: dict[str, str]
) -> None:
    folder, env = tmp_path / "data", keyring_env(secret_service_env, tmp_path)
    browser = stand_in_browser(tmp_path / "browser")
    env["BROWSER"] = str(browser.path)
    port = free_port()
    with emulator_thread(connect_timeout=1.0, auto_approve=True) as emu:
        app = emu.emulator.org.apps[DEFAULT_CLIENT_ID]
        emu.call(lambda: app.callback_urls.append(f"http://localhost:{port}/OauthRedirect"))
        app.rotate_refresh_token = True  # each refresh answers a new token; the old one dies
        add = sfmonitor(
            folder,
            env,
            *("profiles", "add", "Web", "--login-url", emu.url, "--auth", "web"),
            *("--client-id", DEFAULT_CLIENT_ID, "--callback-port", str(port)),
            *("--channel", "/u/news"),
        )
        assert add.returncode == 0, add.stderr
        assert f"in your browser (waiting 5 minutes): {emu.url}/services/oauth2/authorize?" in (
            add.stderr
        )
        assert f"logged in as {ORG_LINE}" in add.stderr
        assert browser.seen()[1].startswith(f"http://localhost:{port}/OauthRedirect?code=")
        listed = sfmonitor(folder, env, "profiles", "list").stdout
        assert f"Web\tcustom\t{emu.url}\tweb\t{DEFAULT_USERNAME}\tproduction\t1 channels" in listed
        issued = set(emu.emulator.org.refresh_tokens) - {DEFAULT_REFRESH_TOKEN}

        code, said = capture(folder, env, "Web", news(emu))
        assert code == 0, said
        assert f"logged in as {ORG_LINE}" in said
        assert not issued & set(emu.emulator.org.refresh_tokens)  # the login's token died
        # that login rotated the refresh token: a second run works only if it was kept
        code, said = capture(folder, env, "Web", news(emu))
        assert code == 0, said
        assert stored(folder) == 6

        emu.call(lambda: emu.emulator.revoke_tokens(refresh=True))
        code, said = capture(folder, env, "Web", news(emu))
        assert code == EXIT_AUTH, said
        assert "expired access/refresh token" in said
        assert "log in again with `sfmonitor profiles login Web`" in said

        again = sfmonitor(folder, env, "profiles", "login", "Web")
        assert again.returncode == 0, again.stderr
        assert f"logged in 'Web' again; logged in as {ORG_LINE}" in again.stderr
        code, said = capture(folder, env, "Web", news(emu))
        assert code == 0, said
    assert stored(folder) == 9


def test_sf_cli_and_jwt_profiles_need_no_keyring(tmp_path: Path) -> None:
    folder, env = tmp_path / "data", no_keyring_env(tmp_path)
    key = make_key()
    key_file = write_key(key, tmp_path / "capture.key")
    with emulator_thread(connect_timeout=1.0) as emu:
        fake = emu.call(lambda: FakeSf(tmp_path, emu.emulator))
        env["FAKE_SF_CONFIG"] = str(fake.config_file)
        env["PATH"] = f"{fake.bin}{os.pathsep}{env['PATH']}"
        emu.call(lambda: register_app(emu.emulator.org, {"client_id": "jwt-app"}))
        emu.emulator.org.apps["jwt-app"].certificate = certificate_of(key)

        add = sfmonitor(
            folder, env, "profiles", "add", "Cli", "--auth", "sf-cli", "--sf-org", "emu",
            "--channel", "/u/news",
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        assert f"logged in as {ORG_LINE}" in add.stderr and "keyring" not in add.stderr
        code, said = capture(folder, env, "Cli", news(emu))
        assert code == 0, said

        add = sfmonitor(
            folder, env, "profiles", "add", "Jwt", "--login-url", emu.url, "--auth", "jwt",
            "--client-id", "jwt-app", "--username", DEFAULT_USERNAME,
            "--key-file", str(key_file), "--channel", "/u/news",
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        code, said = capture(folder, env, "Jwt", news(emu))
        assert code == 0, said
        assert stored(folder) == 6

        unknown = sfmonitor(
            folder, env, "profiles", "add", "X", "--auth", "sf-cli", "--sf-org", "nope"
        )
        assert unknown.returncode == EXIT_AUTH
        assert "sf org login web --alias nope" in unknown.stderr
        key_file.unlink()  # the key went away: said at the next capture, exit 3
        code, said = capture(folder, env, "Jwt", news(emu))
        assert code == EXIT_AUTH and "cannot read the key file" in said
        listed = sfmonitor(folder, env, "profiles", "list").stdout
        assert "Cli\tcustom" in listed and "\tsf-cli\t" in listed and "\tjwt\t" in listed
        assert "X\t" not in listed  # a refused login saves nothing


def test_client_credentials_and_a_blocked_password_login(
    tmp_path: Path, secret_service_env: dict[str, str]
) -> None:
    folder, env = tmp_path / "data", keyring_env(secret_service_env, tmp_path)
    with emulator_thread(connect_timeout=1.0, block_password_flow=True) as emu:
        add = sfmonitor(
            folder, env, "profiles", "add", "Integration", "--login-url", emu.url,
            "--auth", "client-credentials", "--client-id", DEFAULT_CLIENT_ID,
            "--channel", "/u/news", "--secrets-stdin",
            stdin=f"{DEFAULT_CLIENT_SECRET}\n",
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        assert "its secrets are in the keyring" in add.stderr
        code, said = capture(folder, env, "Integration", news(emu))
        assert code == 0, said

        add = sfmonitor(
            folder, env, "profiles", "add", "Old", "--login-url", emu.url,
            "--auth", "password", "--username", DEFAULT_USERNAME,
            "--client-id", DEFAULT_CLIENT_ID, "--channel", "/u/news", "--secrets-stdin",
            stdin=f"any-password\n{DEFAULT_CLIENT_SECRET}\n",
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        code, said = capture(folder, env, "Old", news(emu))
    assert code == EXIT_AUTH, said
    assert "invalid_grant: authentication failure" in said
    assert "blocks the OAuth username-password flow" in said
    assert "Log in in the browser instead (auth kind 'web')" in said
