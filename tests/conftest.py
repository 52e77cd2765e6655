"""Shared fixtures: Qt offscreen, an in-memory keyring for every test, a real Secret Service
for the few tests that ask for it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import faulthandler
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

from sfmonitor.store import CaptureStore
from tests.helpers.keyring import MemoryKeyring


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """A crash prints the crashing thread's stack only: CI keeps the start and the end of a
    long output, and a dump of every idle worker thread would push the one that matters out
    of it."""
    try:
        from _pytest.faulthandler import fault_handler_stderr_fd_key
    except ImportError:  # pytest moved it: keep its own all-threads dump
        return
    if fault_handler_stderr_fd_key in config.stash:
        faulthandler.enable(file=config.stash[fault_handler_stderr_fd_key], all_threads=False)


@pytest.fixture(autouse=True)
def mem_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets its own empty keyring; the user's real one is never touched."""
    old = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(old)


@pytest.fixture(scope="session")
def secret_service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private D-Bus session with an unlocked gnome-keyring (skipped where not installed)."""
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        pytest.skip("needs dbus and gnome-keyring (apt-get install dbus gnome-keyring)")
    base = tmp_path_factory.mktemp("secretsvc")
    (base / "run").mkdir(mode=0o700)
    env = dict(os.environ, XDG_DATA_HOME=str(base / "data"), XDG_RUNTIME_DIR=str(base / "run"))
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert bus.stdout is not None
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        out = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="test-pass",
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
        env.update(line.split("=", 1) for line in out.splitlines() if "=" in line)
        yield env
    finally:
        bus.terminate()
        bus.wait(5)


@pytest.fixture
def secret_service(
    secret_service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> keyring.backend.KeyringBackend:
    """The real Secret Service backend, installed as the keyring for this test."""
    for key in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(key, secret_service_env[key])
    from keyring.backends.SecretService import Keyring

    backend = Keyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_folder: Path) -> Iterator[CaptureStore]:
    """A capture store in a fresh data folder (closed after the test)."""
    with CaptureStore.open(data_folder) as opened:
        yield opened


@pytest.fixture(scope="session")
def display() -> Iterator[dict[str, str]]:
    """A real X server (Xvfb) when installed, else Qt's offscreen platform."""
    if shutil.which("Xvfb") is None:
        yield {"QT_QPA_PLATFORM": "offscreen"}
        return
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as ready:
        number = ready.readline().strip()
    try:
        yield {"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{number}"}
    finally:
        server.terminate()
        server.wait(10)
