"""``sfmonitor capture`` through a backlog, in its own process beside an emulator process:
its memory before, during and after (tests/test_capture_memory.py and
benchmarks/backlog_memory.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

from sfmonitor.store import CaptureStore
from tests.helpers.profiles import save_emulator_profile

ROOT = Path(__file__).resolve().parents[2]

SECRETS = "demo-password\nsfmonitor-demo-client-secret\n"
CHANNEL = "/event/Backlog__e"  # platform events: an allocation no benchmark reaches


def rss_mb(pid: int, key: str = "VmRSS:") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


def control(url: str, what: str, body: dict[str, object]) -> object:
    request = urllib.request.Request(
        f"{url}/__emulator/{what}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.loads(reply.read())


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.max_event_id()


class Backlog:
    """An emulator process and ``sfmonitor capture`` subscribed to its ``CHANNEL``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.emulator = subprocess.Popen(
            [sys.executable, "-m", "sfmonitor.emulator", "--scenario", "none"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.capture: subprocess.Popen[str] | None = None
        self.log = ""
        assert self.emulator.stdout is not None
        found = re.search(r"http://\S+", self.emulator.stdout.readline())
        assert found is not None, "the emulator did not start"
        self.url = found.group(0)

    def start_capture(self) -> None:
        control(self.url, "generate", {"channel": CHANNEL, "count": 1})  # the channel exists
        with CaptureStore.open(self.folder) as store:
            save_emulator_profile(store, self.url, (CHANNEL,))
        env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
        capture = self.capture = subprocess.Popen(
            [
                *(sys.executable, "-m", "sfmonitor", "--data-dir", str(self.folder)),
                *("capture", "--profile", "Emu", "--secrets-stdin"),
            ],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert capture.stdin is not None and capture.stderr is not None
        capture.stdin.write(SECRETS)
        capture.stdin.close()
        for line in capture.stderr:
            self.log += line
            if "subscribed to" in line:
                break
        threading.Thread(target=self._read_log, args=(capture.stderr,), daemon=True).start()

    def _read_log(self, stream: Any) -> None:
        for line in stream:
            self.log += line

    def rss(self) -> float:
        assert self.capture is not None
        return rss_mb(self.capture.pid)

    def flood(self, events: int, payload: int) -> None:
        """Publish ``events`` as fast as the emulator can (its delivery runs meanwhile)."""
        size = {"channel": CHANNEL, "count": events, "payload_bytes": payload}
        threading.Thread(target=control, args=(self.url, "generate", size), daemon=True).start()

    def stored(self) -> int:
        return stored(self.folder)

    def alive(self) -> bool:
        return self.capture is not None and self.capture.poll() is None

    def stop(self) -> None:
        if self.capture is not None and self.capture.poll() is None:
            self.capture.terminate()
            try:
                self.capture.wait(60)
            except subprocess.TimeoutExpired:
                self.capture.kill()
        self.emulator.terminate()
        self.emulator.wait(60)
