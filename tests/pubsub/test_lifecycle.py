"""Explicit shutdown (start/stop x20, then a clean interpreter exit) and the emulator's
command line with ``--pubsub-port``."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.pubsub import EventQueue, PubSubConnection, ReplayFrom
from tests.helpers.tls import make_tls

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_start_stop_20_times_then_a_clean_exit() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-X", "dev", "-m", "tests.pubsub.cycles", "20"],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "cycles ok: 20" in out.stdout
    assert "Fatal Python error" not in out.stderr


async def read_line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()


@pytest.mark.asyncio
async def test_cli_pubsub_port_over_tls_prints_both_addresses(tmp_path: Path) -> None:
    ca, _ = make_tls(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "sfmonitor.emulator", "--pubsub-port", "0"),
        *("--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = await read_line(proc)
        words = line.split()
        assert line.startswith("sfmonitor-emulator listening on https://127.0.0.1:")
        assert words[-2] == "pubsub" and words[-1].startswith("127.0.0.1:")
        url, address = words[-3], words[-1]
        ssl_ctx = ssl.create_default_context(cafile=str(ca))
        tokens = await _tokens_tls(url, ssl_ctx)
        async with PubSubConnection(tokens, address, root_certificates=ca.read_bytes()) as conn:
            outcome = await conn.publish("/event/Low_Ink__e", [{"Ink_Percentage__c": 0.5}])
            assert not outcome[0].error and len(outcome[0].replay_id) == 8
            queue = EventQueue()
            conn.subscribe("/event/Low_Ink__e", queue, ReplayFrom.earliest())
            event = await asyncio.wait_for(queue.get(), 20)
            assert event.replay_id == outcome[0].replay_id
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _tokens_tls(url: str, ssl_ctx: object) -> object:
    import aiohttp

    from sfmonitor.pubsub import CallbackTokens, Credentials
    from tests.pubsub.helpers import LOGIN

    connector = aiohttp.TCPConnector(ssl=ssl_ctx)  # type: ignore[arg-type]
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(f"{url}/services/oauth2/token", data=LOGIN) as r:
            body = await r.json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        async with http.get(f"{url}/services/oauth2/userinfo", headers=headers) as r:
            org = (await r.json())["organization_id"]
    return CallbackTokens(Credentials(body["access_token"], body["instance_url"], org))


@pytest.mark.asyncio
async def test_cli_without_pubsub_keeps_the_old_ready_line() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sfmonitor.emulator", stdout=subprocess.PIPE
    )
    try:
        line = await read_line(proc)
        assert line.split()[-1].startswith("http://127.0.0.1:") and "pubsub" not in line
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
