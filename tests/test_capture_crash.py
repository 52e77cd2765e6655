"""``sfmonitor capture`` SIGKILLed at random moments while events flow: after the last
restart the store holds exactly the published events, none lost, none twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sfmonitor.store import CaptureStore, EventQuery
from tests.helpers.emulator_thread import SECRETS_STDIN, EmulatorThread, emulator_thread
from tests.helpers.profiles import save_emulator_profile
from tests.helpers.waiting import wait_until_blocking

CHANNELS = ("/topic/Foo", "/event/Low_Ink__e", "/data/AccountChangeEvent", "/u/news")
KILLS = 6


def start_capture(folder: Path, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(folder),
            "capture",
            "--profile",
            "Emu",
            "--secrets-stdin",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env=dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"),
    )
    assert proc.stdin is not None
    proc.stdin.write(SECRETS_STDIN.encode())
    proc.stdin.close()
    return proc


class Publisher(threading.Thread):
    """Publishes events across every kind of channel at a steady pace until stopped."""

    def __init__(self, emu: EmulatorThread) -> None:
        super().__init__(daemon=True)
        self.emu = emu
        self.published: set[tuple[str, int]] = set()
        self.halt = threading.Event()

    def publish(self, n: int) -> None:
        def batch() -> list[tuple[str, int]]:
            org = self.emu.emulator.org
            out = []
            for i in range(n):
                ch = CHANNELS[(len(self.published) + i) % len(CHANNELS)]
                out.append(
                    (ch, org.publish_any(ch, {"Name": f"n{len(self.published) + i}"}).replay_id)
                )
            return out

        self.published.update(self.emu.call(batch))

    def run(self) -> None:
        while not self.halt.wait(0.02):
            self.publish(5)


def stored(folder: Path) -> list[tuple[str, int]]:
    with CaptureStore.open(folder, read_only=True) as store:
        return [(r.channel, r.replay_id or 0) for r in store.fetch(EventQuery(), limit=10**7)]


def test_sigkill_at_random_moments_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    rng = random.Random(20261128)
    with emulator_thread(connect_timeout=1.0) as emu:
        emu.call(lambda: emu.emulator.org.ensure_topic("Foo"))
        with CaptureStore.open(folder) as store:
            save_emulator_profile(store, emu.url, CHANNELS)

        log = tmp_path / "run0.log"
        proc = start_capture(folder, log)

        def all_live() -> bool:
            text = log.read_text()
            if not all(f"subscribed to {ch}" in text for ch in CHANNELS):
                return False
            with CaptureStore.open(folder, read_only=True) as s:
                states = s.replay_states(1)
            return len(states) == len(CHANNELS)

        wait_until_blocking(all_live, 30, "the first capture to go live")
        publisher = Publisher(emu)
        publisher.start()
        try:
            for kill in range(KILLS):
                time.sleep(rng.uniform(0.2, 1.2))
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                time.sleep(rng.uniform(0.0, 0.4))  # events keep coming while it is down
                proc = start_capture(folder, tmp_path / f"run{kill + 1}.log")
            time.sleep(0.5)
        finally:
            publisher.halt.set()
            publisher.join(10)
        try:
            wait_until_blocking(
                lambda: len(stored(folder)) >= len(publisher.published), 60, "every event"
            )
            time.sleep(0.5)  # let any duplicate show itself
        finally:
            proc.terminate()
            proc.wait(20)
        assert proc.returncode == 0, (tmp_path / f"run{KILLS}.log").read_text()

    rows = stored(folder)
    assert len(publisher.published) > 500
    assert len(rows) == len(set(rows)), "an event was stored twice"
    assert set(rows) == publisher.published
