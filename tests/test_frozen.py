"""The packaged app (PyInstaller, sfmonitor.spec), built once: the demo self-test offscreen
and on a real X server, headless capture, and the keyring through a real Secret Service.

Run with ``pytest -m frozen`` (``.ci/run`` does; the default run skips these).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_USERNAME
from sfmonitor.store import CaptureStore, EventQuery
from tests.auth.conftest import free_port
from tests.helpers.browser import stand_in_browser
from tests.helpers.emulator_thread import SECRETS_STDIN, emulator_thread, profiles_add
from tests.helpers.long_run import RUN_SECONDS, app_env, keeps_capturing
from tests.helpers.waiting import wait_until_blocking

pytestmark = [pytest.mark.frozen, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("PyInstaller is not installed (pip install -e '.[package]')")
    work = tmp_path_factory.mktemp("pyinstaller")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pyinstaller"),
            "--noconfirm",
            "--clean",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(ROOT / "sfmonitor.spec"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
        cwd=ROOT,
    )
    app = work / "dist" / "sfmonitor" / "sfmonitor"
    assert app.exists()
    yield app


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**base, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **extra}


def test_frozen_demo_self_test_offscreen(frozen_app: Path, tmp_path: Path) -> None:
    shot = tmp_path / "frozen.png"
    out = subprocess.run(
        [
            str(frozen_app),
            "--data-dir",
            str(tmp_path / "d"),
            "--demo",
            "--self-test",
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env(QT_QPA_PLATFORM="offscreen"),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("self-test ok: ")
    assert shot.stat().st_size > 10_000


def test_frozen_demo_self_test_on_xvfb(frozen_app: Path, tmp_path: Path) -> None:
    if not shutil.which("xvfb-run"):
        pytest.skip("needs xvfb-run (apt-get install xvfb xauth)")
    out = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            str(frozen_app),
            "--data-dir",
            str(tmp_path / "d"),
            "--demo",
            "--self-test",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env(QT_QPA_PLATFORM="xcb"),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "self-test ok: " in out.stdout


def test_frozen_headless_capture_demo(frozen_app: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(frozen_app), "--data-dir", str(tmp_path / "d"), "capture", "--demo", "--ndjson", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert all(line.startswith(b'{"channel":') for line in lines)
    with CaptureStore.open(tmp_path / "d", read_only=True) as store:
        assert store.count(EventQuery()) >= 5


def test_frozen_capture_demo_over_pubsub(frozen_app: Path, tmp_path: Path) -> None:
    """The packaged app subscribes over the Pub/Sub API (gRPC, protobuf, fastavro bundled)."""
    command = ["capture", "--demo", "--transport", "pubsub", "--ndjson", "-"]
    proc = subprocess.Popen(
        [str(frozen_app), "--data-dir", str(tmp_path / "d"), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    try:
        assert proc.stdout is not None
        over_pubsub = 0
        while over_pubsub < 3:
            line = proc.stdout.readline()
            assert line, "the capture ended"
            over_pubsub += b'"pubsub":{"replayId":"' in line
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    with CaptureStore.open(tmp_path / "d", read_only=True) as store:
        (profile,) = store.profiles()
        states = store.replay_states(profile.id or 0)
        assert sum(s.transport == "pubsub" and bool(s.replay_bytes) for s in states.values()) >= 1
        assert store.avro_schemas()


def test_frozen_app_keeps_secrets_in_the_secret_service(
    frozen_app: Path, tmp_path: Path, secret_service_env: dict[str, str]
) -> None:
    folder = str(tmp_path / "d")
    run_env = {
        **env(),
        **{
            k: secret_service_env[k]
            for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
        },
    }
    run_env.pop("PYTHON_KEYRING_BACKEND")  # let the frozen app find the Secret Service itself
    with emulator_thread(connect_timeout=1.0) as emu:
        emu.call(lambda: [emu.emulator.org.publish_any("/u/news", f"m{i}") for i in range(3)])
        add = subprocess.run(
            [str(frozen_app), "--data-dir", folder, *profiles_add(emu.url, ("/u/news",))],
            input=SECRETS_STDIN,
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env,
        )
        assert add.returncode == 0, add.stderr
        # the secret is in the Secret Service, readable by another program of the session,
        # under the entry of this capture file's profile
        with CaptureStore.open(Path(folder), read_only=True) as store:
            entry = f"profile:{store.vault_scope}:Emu"
        reader = subprocess.run(
            [
                sys.executable,
                "-c",
                "import keyring; print(keyring.get_keyring()); "
                f"print(keyring.get_password('sfmonitor', {entry!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env,
        )
        assert "SecretService" in reader.stdout and "sfmonitor-demo-client-secret" in reader.stdout
        # and the frozen app reads it back to log in
        proc = subprocess.Popen(
            [
                str(frozen_app),
                "--data-dir",
                folder,
                "capture",
                "--profile",
                "Emu",
                "--replay",
                "all",
            ],
            stderr=subprocess.PIPE,
            text=True,
            env=run_env,
        )
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "subscribed to /u/news" in line or "login refused" in line:
                    break
            wait_until_blocking(lambda: stored(tmp_path / "d") >= 3, 30, "three events")
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        finally:
            proc.kill()
        assert proc.returncode == 0
    assert stored(tmp_path / "d") == 3


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.count(EventQuery())


def test_frozen_app_logs_in_in_the_browser_then_captures(
    frozen_app: Path, tmp_path: Path, secret_service_env: dict[str, str]
) -> None:
    """``profiles add --auth web`` of the packaged app: ``$BROWSER`` (a stand-in) opens the
    emulator's authorize page, which approves at once; the refresh token goes to a real
    Secret Service; a capture then logs in with it and stores an event."""
    folder = str(tmp_path / "d")
    keys = ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
    run_env = {**env(), **{k: secret_service_env[k] for k in keys}}
    run_env.pop("PYTHON_KEYRING_BACKEND")
    browser = stand_in_browser(tmp_path / "browser")
    run_env["BROWSER"] = str(browser.path)
    port = free_port()
    with emulator_thread(connect_timeout=1.0, auto_approve=True) as emu:
        app = emu.emulator.org.apps[DEFAULT_CLIENT_ID]
        emu.call(lambda: app.callback_urls.append(f"http://localhost:{port}/OauthRedirect"))
        add = subprocess.run(
            [
                *(str(frozen_app), "--data-dir", folder, "profiles", "add", "Web"),
                *("--login-url", emu.url, "--auth", "web", "--client-id", DEFAULT_CLIENT_ID),
                *("--callback-port", str(port), "--channel", "/u/news"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=run_env,
        )
        assert add.returncode == 0, add.stderr
        assert f"logged in as {DEFAULT_USERNAME} · sfmonitor emulator (production)" in add.stderr
        assert browser.seen()[0].startswith(f"{emu.url}/services/oauth2/authorize?")
        proc = subprocess.Popen(
            [str(frozen_app), "--data-dir", folder, "capture", "--profile", "Web"],
            stderr=subprocess.PIPE,
            text=True,
            env=run_env,
        )
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "subscribed to /u/news" in line or "login refused" in line:
                    break
            emu.call(lambda: emu.emulator.org.publish_any("/u/news", "after a browser login"))
            wait_until_blocking(lambda: stored(tmp_path / "d") >= 1, 30, "an event")
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        finally:
            proc.kill()
        assert proc.returncode == 0
    assert stored(tmp_path / "d") == 1


@pytest.mark.long
@pytest.mark.timeout(RUN_SECONDS + 180)
def test_frozen_app_runs_for_minutes_and_keeps_storing(
    frozen_app: Path, display: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    command = [str(frozen_app), "--demo", "--data-dir", str(folder)]
    keeps_capturing(command, app_env(display), folder, tmp_path / "app.log")
