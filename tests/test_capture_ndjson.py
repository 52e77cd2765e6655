"""``sfmonitor capture --ndjson`` on events it stores: a lone surrogate, nesting deeper
than orjson writes (255), a file on a full disk. The copy never kills the capture."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from sfmonitor.emulator.channels import RetainedEvent, classify
from sfmonitor.store import CaptureStore, EventQuery
from sfmonitor.store.export import RECORD_SQL
from tests.helpers.emulator_thread import (
    SECRETS_STDIN,
    EmulatorThread,
    emulator_thread,
    profiles_add,
)
from tests.helpers.waiting import wait_until_blocking
from tests.test_cli import run


def publish_raw(emu: EmulatorThread, channel: str, payload: Any) -> int:
    """Publish an event whose message orjson cannot write, serialized the way a server
    may (``\\ud800`` escapes, any depth), through the emulator's own delivery."""

    def publish() -> int:
        org = emu.emulator.org
        kind = classify(channel)
        assert kind is not None
        log = org.log_for(channel, kind)
        rid = log.next_replay_id()
        created = org.clock.now_ms()
        message = {
            "channel": channel,
            "data": {
                "event": {"replayId": rid, "createdDate": "2026-12-01T10:00:00.000Z"},
                "payload": payload,
            },
        }
        retained = RetainedEvent(rid, created, json.dumps(message).encode())
        log.append(retained)
        org._deliver(kind, org.subscribers.get(channel, []), [retained])
        return rid

    return int(emu.call(publish))


def deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"level": value}
    return value


def start_capture(data: Path, ndjson: str, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "sfmonitor", "--data-dir", str(data), "capture"),
            *("--profile", "Emu", "--secrets-stdin", "--ndjson", ndjson),
        ],
        stdin=subprocess.PIPE,
        stderr=log.open("wb"),
        env=dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"),
    )
    assert proc.stdin is not None
    proc.stdin.write(SECRETS_STDIN.encode())
    proc.stdin.close()
    return proc


def stored_records(data: Path) -> list[bytes]:
    with CaptureStore.open(data, read_only=True) as store:
        return [v.encode() for v in store.iter_values(EventQuery(), RECORD_SQL)]


@pytest.mark.parametrize("target", ["file", "/dev/full"])
def test_odd_events_and_a_full_disk_never_stop_the_capture(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, tmp_path: Path, target: str
) -> None:
    if target == "/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    ndjson = str(tmp_path / "events.ndjson") if target == "file" else target
    log = tmp_path / "capture.log"
    payloads = ["lone \ud800 surrogate", deep(300), "plain", deep(600)]
    with emulator_thread(connect_timeout=1.0) as emu:
        argv = profiles_add(emu.url, ("/u/news",))
        assert run(monkeypatch, data_folder, *argv, stdin=SECRETS_STDIN) == 0
        proc = start_capture(data_folder, ndjson, log)
        try:
            wait_until_blocking(
                lambda: "subscribed to /u/news" in log.read_text(), 30, "the subscription"
            )
            for payload in payloads:
                publish_raw(emu, "/u/news", payload)
            wait_until_blocking(
                lambda: len(stored_records(data_folder)) == len(payloads), 30, "every event"
            )
            assert proc.poll() is None, log.read_text()  # still capturing
            publish_raw(emu, "/u/news", "after")
            wait_until_blocking(
                lambda: len(stored_records(data_folder)) == len(payloads) + 1, 30, "one more"
            )
        finally:
            proc.terminate()
            proc.wait(30)
    err = log.read_text()
    assert "Traceback" not in err
    records = stored_records(data_folder)
    if target == "file":
        assert proc.returncode == 0, err
        lines = Path(ndjson).read_bytes().splitlines()
        assert lines == records  # the copy is the store's own export, byte for byte
        assert [
            orjson.loads(line) if b"\\ud800" not in line else json.loads(line) for line in lines
        ]
        assert stat.S_IMODE(Path(ndjson).stat().st_mode) == 0o600
    else:
        assert proc.returncode == 1, err
        assert "cannot write to /dev/full (No space left on device)" in err
        assert "capturing goes on and every event is still stored" in err
        assert "the NDJSON copy is incomplete" in err
        assert len(records) == len(payloads) + 1
