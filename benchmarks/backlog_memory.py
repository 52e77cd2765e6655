"""Memory of ``sfmonitor capture`` through a backlog: the emulator (its own process)
retains N events, the capture starts with ``--replay all`` and stores them, then idles.
Prints the capture process's RSS before the backlog, at its peak, once everything is
stored, and a few seconds later (where it settles).

    python benchmarks/backlog_memory.py [--events 1000000] [--payload 512] [--settle 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfmonitor.store import CaptureStore  # noqa: E402
from tests.helpers.profiles import save_emulator_profile  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--payload", type=int, default=512)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up on timeout(1)
    with tempfile.TemporaryDirectory() as tmp:
        backlog = Backlog(Path(tmp) / "data")
        try:
            backlog.start_capture()
            time.sleep(1.0)
            base = peak = backlog.rss()  # connected and idle
            started = time.monotonic()
            backlog.flood(args.events, args.payload)
            while backlog.stored() < args.events:
                time.sleep(0.25)
                peak = max(peak, backlog.rss())
                if not backlog.alive() or time.monotonic() - started > args.timeout:
                    raise SystemExit(f"capture ended or timed out: {backlog.log[-2000:]}")
            seconds = time.monotonic() - started
            done = backlog.rss()
            time.sleep(args.settle)
            settled = backlog.rss()
        finally:
            backlog.stop()
    print(
        f"backlog: events={args.events} seconds={seconds:.1f} rss_idle_before={base:.0f}MB "
        f"peak={peak:.0f}MB when_stored={done:.0f}MB after_{args.settle:.0f}s={settled:.0f}MB "
        f"(settled/before {settled / base:.2f})"
    )


if __name__ == "__main__":
    main()
