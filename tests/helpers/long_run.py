"""Running the app for minutes under demo traffic (the long tests of the app from source
and of the packaged app)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from sfmonitor.store import CaptureStore

RUN_SECONDS = float(os.environ.get("SFMONITOR_LONG_RUN_SECONDS", "250"))
CHECK_EVERY = 20.0


def stored(folder: Path) -> int:
    if not (folder / "capture.db").exists():
        return 0
    with CaptureStore.open(folder, read_only=True) as store:
        return sum(sum(store.channel_counts(p.id).values()) for p in store.profiles() if p.id)


def app_env(display: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**base, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **display}


def keeps_capturing(command: list[str], env: dict[str, str], folder: Path, log: Path) -> None:
    """Run ``command`` (the window on the demo) for RUN_SECONDS: every CHECK_EVERY seconds
    it must be alive with more events stored than before; then SIGTERM ends it cleanly."""
    with log.open("wb") as out:
        app = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + RUN_SECONDS
        before = 0
        while time.monotonic() < deadline:
            try:
                code = app.wait(timeout=CHECK_EVERY)
            except subprocess.TimeoutExpired:
                code = None
            tail = log.read_bytes()[-3000:].decode(errors="replace")
            assert code is None, f"the app ended with {code} after a while:\n{tail}"
            now = stored(folder)
            assert now > before, f"nothing stored in the last {CHECK_EVERY:.0f} s:\n{tail}"
            before = now
    finally:
        app.send_signal(signal.SIGTERM)
        code = app.wait(60)
    assert code == 0, log.read_bytes()[-3000:].decode(errors="replace")
    assert stored(folder) >= before
