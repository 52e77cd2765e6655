"""The headless commands and the Pub/Sub API: ``capture --transport pubsub`` over the demo
(its emulator serves both APIs), the NDJSON copy equal to the export of what was stored,
and a profile's transport and Pub/Sub endpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from sfmonitor.store import CaptureStore, EventQuery
from sfmonitor.store.export import RECORD_SQL
from tests.helpers.emulator_thread import SECRETS_STDIN
from tests.test_cli import run


def test_capture_demo_over_pubsub_stores_and_echoes_pubsub_events(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(tmp_path / "d"),
            "capture",
            "--demo",
            "--transport",
            "pubsub",
            "--ndjson",
            "-",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lines: list[bytes] = []
    try:
        assert proc.stdout is not None
        while sum(b'"pubsub":' in line for line in lines) < 5:
            line = proc.stdout.readline()
            assert line, "the capture ended"
            lines.append(line)
        proc.terminate()
        rest, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert b"over the Pub/Sub API: /data/ChangeEvents, /event/LoginEventStream" in err
    assert b"on CometD (not on the Pub/Sub API): /topic/AccountUpdates" in err
    lines += rest.splitlines(keepends=True)
    over_pubsub = [orjson.loads(line) for line in lines if b'"pubsub":' in line]
    assert {r["channel"] for r in over_pubsub} <= {
        "/data/ChangeEvents",
        "/event/Order_Placed__e",
        "/event/LoginEventStream",
    }
    assert all(int(r["pubsub"]["replayId"], 16) == r["replayId"] for r in over_pubsub)
    with CaptureStore.open(tmp_path / "d", read_only=True) as store:
        exported = {v.encode() + b"\n" for v in store.iter_values(EventQuery(), RECORD_SQL)}
        assert set(lines) <= exported  # the copy says what an export of the store says
        (profile,) = store.profiles()
        assert store.avro_schemas()
        states = store.replay_states(profile.id or 0)
        assert states["/event/Order_Placed__e"].transport == "pubsub"
        assert states["/topic/AccountUpdates"].transport == "cometd"


def test_profiles_add_keeps_a_transport_and_a_pubsub_endpoint(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ("profiles", "add", "P", "--login-url", "https://x.my.salesforce.com")
    base += ("--username", "u@x", "--client-id", "c", "--secrets-stdin")
    argv = (*base, "--transport", "pubsub", "--pubsub-endpoint", "api.example.com:7443")
    assert run(monkeypatch, data_folder, *argv, stdin=SECRETS_STDIN) == 0
    assert run(monkeypatch, data_folder, *base, stdin=SECRETS_STDIN) == 0  # kept when not given
    with CaptureStore.open(data_folder, read_only=True) as store:
        (profile,) = store.profiles()
        assert (profile.transport, profile.pubsub_endpoint) == ("pubsub", "api.example.com:7443")
    bad = (*base, "--pubsub-endpoint", "http://api.example.com:7443")
    assert run(monkeypatch, data_folder, *bad, stdin=SECRETS_STDIN) == 2
    assert "plaintext" in capsys.readouterr().err
