"""Events/s through ``SimpleSalesforceStreaming.events()`` against the floor: a minimal
hand-written aiohttp long-poll loop over the same emulator, in the same run.

The emulator runs in its own process. Each round generates N events of 512 B on a fresh
channel, then a fresh worker process subscribes with replay -2 and reads all N; the worker
reports its rate (subscribe to last event) and its peak RSS. Rounds alternate client and
floor; the medians and their ratio are printed.

    python benchmarks/client_throughput.py [--events 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfmonitor.emulator import (  # noqa: E402
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from sfmonitor.streaming import ReplayType, SimpleSalesforceStreaming  # noqa: E402

LOGIN = {
    "grant_type": "password",
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "username": DEFAULT_USERNAME,
    "password": DEFAULT_PASSWORD,
}


async def floor_events(url: str, channel: str) -> AsyncIterator[dict[str, Any]]:
    """The floor: login, handshake, subscribe -2, then connect in a loop and yield events."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{url}/services/oauth2/token", data=LOGIN) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        endpoint = f"{url}/cometd/62.0"

        async def post(msg: dict[str, Any]) -> list[dict[str, Any]]:
            async with http.post(endpoint, data=orjson.dumps([msg]), headers=headers) as r:
                return orjson.loads(await r.read())  # type: ignore[no-any-return]

        hs = await post(
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "id": "1",
                "supportedConnectionTypes": ["long-polling"],
            }
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
        yield {"channel": "/meta/ready"}
        await post(
            {
                "channel": "/meta/subscribe",
                "clientId": cid,
                "id": "3",
                "subscription": channel,
                "ext": {"replay": {channel: -2}},
            }
        )
        while True:
            for m in await post(
                {
                    "channel": "/meta/connect",
                    "clientId": cid,
                    "id": "c",
                    "connectionType": "long-polling",
                }
            ):
                if not m["channel"].startswith("/meta/"):
                    yield m


async def run_floor(url: str, channel: str, n: int) -> float:
    got = 0
    started = 0.0
    async for m in floor_events(url, channel):
        if m["channel"] == "/meta/ready":
            started = time.perf_counter()
            continue
        got += 1
        if got == n:
            break
    return n / (time.perf_counter() - started)


async def run_client(url: str, channel: str, n: int) -> float:
    got = 0
    async with SimpleSalesforceStreaming(
        DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, login_url=url
    ) as client:
        started = time.perf_counter()
        task = asyncio.ensure_future(client.subscribe(channel, ReplayType.ALL_EVENTS))
        async for _event in client.events():
            got += 1
            if got == n:
                break
        await task
        return n / (time.perf_counter() - started)


def pin(core: int) -> None:
    """Keep one process on one core: the emulator and the reader then never share one,
    which removes much of the noise of a shared machine (same for both variants)."""
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[core]})


def worker(kind: str, url: str, channel: str, n: int) -> None:
    pin(0)
    run = run_client if kind == "client" else run_floor
    rate = asyncio.run(run(url, channel, n))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rate": rate, "peak_rss_mb": peak_mb}))


async def bench(n: int, rounds: int) -> None:
    emulator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from benchmarks.client_throughput import pin; pin(1); "
        "from sfmonitor.emulator.__main__ import main; sys.exit(main(sys.argv[1:]))",
        "--max-batch",
        "1000",
        stdout=subprocess.PIPE,
        cwd=str(ROOT),
    )
    assert emulator.stdout is not None
    url = (await emulator.stdout.readline()).decode().split()[-1]
    results: dict[str, list[dict[str, float]]] = {"client": [], "floor": []}
    try:
        async with aiohttp.ClientSession() as http:
            for i in range(rounds):
                for kind in ("client", "floor") if i % 2 == 0 else ("floor", "client"):
                    channel = f"/event/Bench{i}{kind}__e"
                    async with http.post(
                        f"{url}/__emulator/generate",
                        json={"channel": channel, "count": n, "payload_bytes": 512},
                    ) as r:
                        assert r.status == 200, await r.text()
                    out = subprocess.run(
                        [sys.executable, __file__, "--worker", kind, url, channel, str(n)],
                        capture_output=True,
                        text=True,
                        check=True,
                        timeout=600,
                    )
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    results[kind].append(result)
                    print(
                        f"  round {i + 1} {kind:6}: {result['rate']:>9,.0f} events/s, "
                        f"peak RSS {result['peak_rss_mb']:.0f} MB",
                        flush=True,
                    )
    finally:
        emulator.terminate()
        await emulator.wait()
    client = statistics.median(r["rate"] for r in results["client"])
    floor = statistics.median(r["rate"] for r in results["floor"])
    rss = max(r["peak_rss_mb"] for r in results["client"])
    print(f"client events():   {client:,.0f} events/s (median of {rounds}, N={n:,}, 512 B)")
    print(f"hand-written floor: {floor:,.0f} events/s")
    print(f"ratio client/floor: {client / floor:.2f} (target >= 0.90)")
    print(f"client peak RSS:   {rss:.0f} MB (target < 100 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--worker", nargs=4, metavar=("KIND", "URL", "CHANNEL", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        kind, url, channel, n = args.worker
        worker(kind, url, channel, int(n))
        return
    asyncio.run(bench(args.events, args.rounds))


if __name__ == "__main__":
    main()
