"""Delivery ceiling of the emulator: events/s that it can hand to a client reading and
discarding connect replies (512-byte events, batches of 1000).

The emulator runs in its own process (as in every benchmark, so that it has a core of its
own); the reader logs in, handshakes, subscribes with replay -2 to N pre-generated events
and polls until it has them all. Baseline, measured in the same run and alternated with it:
a bare aiohttp server answering every poll with the same 1000-event body built once — the
cost of HTTP alone. Prints medians of several rounds and their ratio.

    python benchmarks/emulator_ceiling.py [--events 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

CHANNEL = "/u/bench"
BATCH = 1000


async def start_process(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
    return proc, line.split()[-1]


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    await asyncio.wait_for(proc.wait(), 15)


async def read_emulator(url: str, events: int) -> float:
    """Seconds to receive ``events`` pre-generated events from the emulator."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.post(
            f"{url}/__emulator/generate",
            json={"channel": CHANNEL, "count": events, "payload_bytes": 512},
        ) as r:
            assert r.status == 200, await r.text()
        async with http.post(
            f"{url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "username": DEFAULT_USERNAME,
                "password": DEFAULT_PASSWORD,
            },
        ) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        cometd = f"{url}/cometd/62.0"

        async def post(msg: dict[str, object]) -> bytes:
            async with http.post(
                cometd,
                data=orjson.dumps([msg]),
                headers={**headers, "Content-Type": "application/json"},
            ) as r:
                return await r.read()

        hs = orjson.loads(
            await post(
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                    "id": "1",
                }
            )
        )
        cid = hs[0]["clientId"]
        await post(
            {
                "channel": "/meta/connect",
                "clientId": cid,
                "id": "2",
                "connectionType": "long-polling",
            }
        )
        started = time.perf_counter()
        await post(
            {
                "channel": "/meta/subscribe",
                "clientId": cid,
                "id": "3",
                "subscription": CHANNEL,
                "ext": {"replay": {CHANNEL: -2}},
            }
        )
        got = 0
        while got < events:
            body = await post(
                {
                    "channel": "/meta/connect",
                    "clientId": cid,
                    "id": "c",
                    "connectionType": "long-polling",
                }
            )
            got += body.count(b'"replayId":')
        return time.perf_counter() - started


async def read_static(url: str, events: int) -> float:
    """Seconds to receive the same number of events from the bare aiohttp server."""
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        got = 0
        while got < events:
            async with http.post(url, data=b'[{"channel":"/meta/connect"}]') as r:
                got += (await r.read()).count(b'"replayId":')
        return time.perf_counter() - started


def serve_static() -> None:
    """Child process: answer every POST with one pre-built 1000-event body."""
    from aiohttp import web

    event = orjson.dumps(
        {
            "channel": CHANNEL,
            "data": {
                "event": {"createdDate": "2026-01-01T00:00:00.000Z", "replayId": 1},
                "payload": "x" * 420,
            },
        }
    )
    body = b"[" + b",".join([event] * BATCH) + b',{"channel":"/meta/connect"}]'

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"static listening on http://127.0.0.1:{runner.addresses[0][1]}/", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def bench(events: int, rounds: int) -> None:
    emu_rates: list[float] = []
    base_rates: list[float] = []
    for _ in range(rounds):
        proc, url = await start_process("-m", "sfmonitor.emulator", "--max-batch", str(BATCH))
        try:
            emu_rates.append(events / await read_emulator(url, events))
        finally:
            await stop_process(proc)
        proc, url = await start_process(__file__, "--serve-static")
        try:
            base_rates.append(events / await read_static(url, events))
        finally:
            await stop_process(proc)
        print(
            f"  round: emulator {emu_rates[-1]:,.0f} ev/s, bare aiohttp {base_rates[-1]:,.0f} ev/s",
            flush=True,
        )
    emu, base = statistics.median(emu_rates), statistics.median(base_rates)
    print(
        f"emulator delivery ceiling: {emu:,.0f} events/s "
        f"(512 B, batches of {BATCH}, median of {rounds})"
    )
    print(
        f"bare aiohttp static reply: {base:,.0f} events/s; ratio emulator/bare = {emu / base:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-static", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_static:
        serve_static()
        return
    asyncio.run(bench(args.events, args.rounds))


if __name__ == "__main__":
    main()
