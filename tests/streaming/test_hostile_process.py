"""Attacks measured on a whole process: a gzip bomb's peak memory, and how fast SIGTERM or
Ctrl-C stops ``sfmonitor capture`` while its login or handshake hangs. Figures are printed
(``pytest -s``) for the README's Reliability table; the asserts are generous bounds that
the unbounded or unstoppable behaviour fails by far."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

import sfmonitor
from sfmonitor.app import main
from tests.helpers.hostile import Handler, HostileServer, gzip_bomb, trickle
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
SECRETS = "hostile-password\nhostile-client-secret\n"
CHILD = Path(__file__).with_name("bomb_child.py")
# children import the same sfmonitor as this process
ENV = {**os.environ, "PYTHONPATH": str(Path(sfmonitor.__file__).parents[1])}


def bomb_on_connect(org: HostileServer, decoded: int) -> Handler:
    """The CometD endpoint, whose connect replies are the bomb."""
    bomb = gzip_bomb(decoded)

    async def handler(request: web.Request) -> web.StreamResponse:
        if b"/meta/connect" in await request.read():
            return await bomb(request)
        return await org.bayeux.handle(request)

    return handler


@pytest.mark.parametrize(("where", "bound_mb"), [("token", 32), ("connect", 160)])
async def test_a_1_gib_gzip_bomb_is_refused_with_bounded_memory(where: str, bound_mb: int) -> None:
    async with HostileServer() as org:
        if where == "token":
            org.on("/services/oauth2/token", gzip_bomb(1 << 30))
        else:
            org.on("/cometd/68.0", bomb_on_connect(org, 1 << 30))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            org.url,
            where,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=ENV,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    assert proc.returncode == 0, err.decode()[-2000:]
    figures = re.search(r"baseline_mb=([\d.]+) peak_mb=([\d.]+) seconds=([\d.]+)", text)
    assert figures is not None, text
    baseline, peak, seconds = (float(x) for x in figures.groups())
    print(
        f"\n1 GiB gzip bomb ({1043656:,} bytes on the wire) in the {where} reply: refused "
        f"after {seconds:.2f} s, peak RSS {peak:.0f} MB (baseline {baseline:.0f} MB, "
        f"+{peak - baseline:.0f} MB)"
    )
    assert "exceeds the limit" in text and "once decompressed" in text, text
    assert peak - baseline < bound_mb, text


async def _stop_during(
    org: HostileServer, data: Path, hung: str, sig: int, monkeypatch: pytest.MonkeyPatch
) -> float:
    """Start ``sfmonitor capture`` on a profile of ``org``; once its request to ``hung``
    has arrived (and hangs), send ``sig``; the seconds it took the process to exit."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRETS))
    argv = [
        *("--data-dir", str(data), "profiles", "add", "H", "--login-url", org.url),
        *("--username", "ada@example.com", "--client-id", "cid"),
        *("--channel", "/topic/Foo", "--secrets-stdin"),
    ]
    assert main(argv) == 0
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "sfmonitor", "--data-dir", str(data), "capture", "--profile", "H"),
        "--secrets-stdin",
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    assert proc.stdin is not None
    proc.stdin.write(SECRETS.encode())
    await proc.stdin.drain()
    proc.stdin.close()
    await wait_until(
        lambda: proc.returncode is not None or any(s.path.startswith(hung) for s in org.seen),
        60,
        "the hung request",
    )
    assert proc.returncode is None, "the process ended before it got there"
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    elapsed = time.monotonic() - sent
    assert proc.stderr is not None
    err = (await proc.stderr.read()).decode()
    assert code == 0, err
    assert "stopped:" in err, err
    return elapsed


@pytest.mark.parametrize(
    ("hung", "sig"),
    [("/services/oauth2/token", signal.SIGTERM), ("/cometd/", signal.SIGINT)],
    ids=["login-SIGTERM", "handshake-Ctrl-C"],
)
async def test_a_signal_stops_a_capture_whose_login_or_handshake_hangs(
    hung: str, sig: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HostileServer() as org:
        # the reply starts, then one byte every 0.2 s, forever: no read timeout ever fires
        org.on("/services/oauth2/token" if "oauth" in hung else "/cometd/68.0", trickle(None, 0.2))
        elapsed = await _stop_during(org, tmp_path / "d", hung, sig, monkeypatch)
    what = "login" if "oauth" in hung else "handshake"
    name = signal.Signals(sig).name
    print(f"\n{name} during a {what} that never ends: exited 0 after {elapsed:.2f} s")
    assert elapsed < 20  # a liveness bound: before, the login took 60 s, the handshake forever
