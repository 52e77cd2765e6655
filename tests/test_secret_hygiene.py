"""Secret hygiene end to end: distinctive secrets go through a whole flow (profile in the
keyring, connect, token refresh after revocation, server errors, DEBUG logs, export, a
crash, a restart) and then appear nowhere: not in the data folder, the logs, the settings,
the exports, or anything printed. Access tokens are never logged at all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sfmonitor.emulator import ConnectedApp, User
from sfmonitor.emulator.faults import Pending
from sfmonitor.store import CaptureStore, EventQuery, export_events
from tests.helpers.emulator_thread import emulator_thread
from tests.helpers.waiting import wait_until_blocking

PASSWORD = "Pw-Hygiene-7q1Z-Unique"
TOKEN_SUFFIX = "SecTok9931"  # the security token, appended to the password
CLIENT_SECRET = "Cs-Hygiene-55Xk-Unique"
USERNAME = "hygiene@sfmonitor.example"
CLIENT_ID = "hygiene-client-id"


def sfmonitor(folder: Path, env: dict[str, str], *args: str, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(folder),
            "--log-level",
            "DEBUG",
            *args,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kw,  # type: ignore[arg-type]
    )


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.count(EventQuery())


def test_no_secret_is_written_anywhere(tmp_path: Path, secret_service_env: dict[str, str]) -> None:
    folder = tmp_path / "data"
    env = {
        **os.environ,
        **{
            k: secret_service_env[k]
            for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
        },
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # where QSettings would write
    }
    printed: list[str] = []
    with emulator_thread(
        connect_timeout=1.0,
        users=[User(USERNAME, PASSWORD, security_token=TOKEN_SUFFIX)],
        apps=[ConnectedApp(CLIENT_ID, CLIENT_SECRET, run_as=USERNAME)],
        trusted_ip=False,
    ) as emu:
        org = emu.emulator.org
        add = sfmonitor(
            folder,
            env,
            "profiles",
            "add",
            "Hyg",
            "--login-url",
            emu.url,
            "--username",
            USERNAME,
            "--client-id",
            CLIENT_ID,
            "--channel",
            "/u/news",
            "--secrets-stdin",
        )
        out, err = add.communicate(f"{PASSWORD}{TOKEN_SUFFIX}\n{CLIENT_SECRET}\n", timeout=60)
        printed += [out, err]
        assert add.returncode == 0, err

        capture = sfmonitor(
            folder, env, "capture", "--profile", "Hyg", "--ndjson", str(tmp_path / "echo.ndjson")
        )
        emu.call(lambda: [org.publish_any("/u/news", f"a{i}") for i in range(3)])
        wait_until_blocking(lambda: folder.joinpath("capture.db").exists() and stored(folder) >= 0)
        time.sleep(1.0)
        emu.call(lambda: [org.publish_any("/u/news", f"b{i}") for i in range(3)])
        wait_until_blocking(lambda: stored(folder) >= 3)
        emu.call(lambda: emu.emulator.revoke_tokens())  # a new token must be fetched
        emu.call(lambda: emu.emulator.faults.add(Pending("http_status", 2, status=503)))
        emu.call(lambda: [org.publish_any("/u/news", f"c{i}") for i in range(3)])
        wait_until_blocking(lambda: stored(folder) >= 6)
        capture.send_signal(signal.SIGKILL)  # a crash
        out, err = capture.communicate(timeout=30)
        printed += [out, err]

        restart = sfmonitor(folder, env, "capture", "--profile", "Hyg")
        emu.call(lambda: [org.publish_any("/u/news", f"d{i}") for i in range(3)])
        wait_until_blocking(lambda: stored(folder) >= 9)
        restart.send_signal(signal.SIGTERM)
        out, err = restart.communicate(timeout=30)
        printed += [out, err]
        assert restart.returncode == 0, err
        tokens = list(org.access_tokens)
        assert org.token_requests >= 3  # login, re-login after revocation, login after restart

    with CaptureStore.open(folder, read_only=True) as store:
        export_events(store, EventQuery(), tmp_path / "export.json")

    log_text = (folder / "logs" / "sfmonitor.log").read_text()
    assert "logged in: instance" in log_text  # the login was logged (DEBUG)...
    assert "access token" not in log_text  # ...without its token, even masked:
    assert re.search(r"00D[A-Za-z0-9]{12,15}!", log_text) is None
    secrets = [PASSWORD, TOKEN_SUFFIX, CLIENT_SECRET, f"{PASSWORD}{TOKEN_SUFFIX}", *tokens]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "keyrings" not in p.parts]
    assert any(p.name == "capture.db" for p in files) and any(p.suffix == ".log" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret is in {path}"
    for text in printed:
        for secret in secrets:
            assert secret not in text, "a secret was printed"
