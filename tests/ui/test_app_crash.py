"""The desktop app SIGKILLed at random moments while a flood is captured: after the last
restart every published event is stored exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sfmonitor.store import CaptureStore, EventQuery
from tests.helpers.emulator_thread import (
    SECRETS_STDIN,
    EmulatorThread,
    emulator_thread,
    profiles_add,
)
from tests.helpers.waiting import wait_until_blocking

CHANNELS = ("/u/news", "/event/Low_Ink__e", "/data/AccountChangeEvent")
KILLS = 5


def stored(folder: Path) -> list[tuple[str, int]]:
    if not (folder / "capture.db").exists():
        return []
    with CaptureStore.open(folder, read_only=True) as store:
        rows = store.fetch(EventQuery(), limit=10**7)
    return [(r.channel, r.replay_id or 0) for r in rows if r.kind != "gap"]


def all_marked(folder: Path) -> bool:
    """Every channel went live and was marked (events before it are not wanted)."""
    if not (folder / "capture.db").exists():
        return False
    with CaptureStore.open(folder, read_only=True) as store:
        profile = store.profile("Emu")
        states = store.replay_states(profile.id) if profile and profile.id else {}
    return len(states) == len(CHANNELS)


class Flood(threading.Thread):
    def __init__(self, emu: EmulatorThread) -> None:
        super().__init__(daemon=True)
        self.emu = emu
        self.published: set[tuple[str, int]] = set()
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.halt.wait(0.01):

            def batch(start: int = n) -> list[tuple[str, int]]:
                org = self.emu.emulator.org
                return [
                    (ch, org.publish_any(ch, {"Name": f"e{start + i}"}).replay_id)
                    for i, ch in enumerate(CHANNELS * 10)
                ]

            self.published.update(self.emu.call(batch))
            n += 30


@pytest.mark.timeout(180)
def test_app_killed_five_times_loses_nothing(
    tmp_path: Path, secret_service_env: dict[str, str]
) -> None:
    folder = tmp_path / "data"
    config = tmp_path / "config"
    (config / "sfmonitor").mkdir(parents=True)
    (config / "sfmonitor" / "sfmonitor.conf").write_text(
        "[General]\nlast_profile=Emu\nauto_connect=true\n"
    )
    env = {
        **os.environ,
        **{
            k: secret_service_env[k]
            for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")
        },
        "XDG_CONFIG_HOME": str(config),
        "QT_QPA_PLATFORM": "offscreen",
    }
    rng = random.Random(11)
    with emulator_thread(connect_timeout=1.0) as emu:
        argv = [sys.executable, "-m", "sfmonitor", "--data-dir", str(folder)]
        add = subprocess.run(
            [*argv, *profiles_add(emu.url, CHANNELS)],
            input=SECRETS_STDIN,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert add.returncode == 0, add.stderr

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

        app = start()
        # wait until every channel went live and was marked (events before are not wanted)
        wait_until_blocking(lambda: all_marked(folder), 60, "the app to connect")
        flood = Flood(emu)
        flood.start()
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.5, 2.0))
                app.send_signal(signal.SIGKILL)
                app.wait(10)
                time.sleep(rng.uniform(0.0, 0.5))
                app = start()
            time.sleep(1.0)
        finally:
            flood.halt.set()
            flood.join(10)
        try:
            deadline = time.monotonic() + 60
            while len(set(stored(folder))) < len(flood.published):
                assert time.monotonic() < deadline, "events missing after the last restart"
                time.sleep(0.2)
            time.sleep(0.5)
        finally:
            app.kill()
            app.wait(10)
    rows = stored(folder)
    assert len(flood.published) > 1000
    assert len(rows) == len(set(rows)), "an event was stored twice"
    assert set(rows) == flood.published
