"""Decoded events/s of our Pub/Sub client at 512 B CDC events, side by side in one run with
Salesforce developer relations' Node client (npm salesforce-pubsub-api-client, the one in
tests/pubsub/node/) on the same emulator, and with our CometD client on the same events;
then the same events INTO THE STORE through a real ``Capture`` (login, the Pub/Sub link or
the CometD client, the store writer, SQLite with its search index), over each API.

The emulator runs in its own process over TLS (the Node client speaks only TLS) and
publishes N change events of about 512 B (as CometD JSON) on one channel once. Each round
starts a fresh worker per client that subscribes from the start (EARLIEST / replay -2) and
decodes all N: ours into ``PubSubEvent``s (Avro, bitmaps, the CometD-shaped value), Node's
into its parsed events, CometD's into ``StreamEvent``s; the capture workers until all N
are committed to a fresh capture store. Rounds rotate the order; medians, ratios and
peak RSS are printed.

    python benchmarks/pubsub_throughput.py [--events 50000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.client_throughput import pin  # noqa: E402
from sfmonitor.emulator import (  # noqa: E402
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

CHANNEL = "/data/AccountChangeEvent"
KINDS = ("pubsub", "node", "cometd", "pubsub-store", "cometd-store")


async def run_pubsub(url: str, address: str, ca: str, n: int) -> dict[str, Any]:

    from sfmonitor.pubsub import CallbackTokens, PubSubConnection, PubSubEvent, ReplayFrom
    from tests.pubsub.helpers import login

    creds = await login(url, ssl.create_default_context(cafile=ca))
    done = asyncio.Event()
    got = 0
    payload_bytes = 0

    class Counter:
        async def on_events(self, topic: str, events: Sequence[PubSubEvent]) -> None:
            nonlocal got, payload_bytes
            got += len(events)
            payload_bytes += sum(len(e.payload) for e in events)
            if got >= n:
                done.set()

        def on_position(self, topic: str, replay_id: bytes) -> None:
            pass

        def on_notice(self, notice: object) -> None:
            pass

    roots = Path(ca).read_bytes()
    async with PubSubConnection(CallbackTokens(creds), address, root_certificates=roots) as conn:
        started = time.perf_counter()
        conn.subscribe(CHANNEL, Counter(), ReplayFrom.earliest())
        await done.wait()
        elapsed = time.perf_counter() - started
    return {"rate": got / elapsed, "avro_bytes": payload_bytes / got}


async def run_cometd(url: str, ca: str, n: int) -> dict[str, Any]:
    from sfmonitor.streaming import ReplayType, SimpleSalesforceStreaming, StreamEvent

    got = 0
    async with SimpleSalesforceStreaming(
        DEFAULT_USERNAME,
        DEFAULT_PASSWORD,
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        login_url=url,
        ssl=ca,
    ) as client:
        started = time.perf_counter()
        task = asyncio.ensure_future(client.subscribe(CHANNEL, ReplayType.ALL_EVENTS))
        async for message in client.events():
            StreamEvent.from_message(message)  # the same value the Pub/Sub path builds
            got += 1
            if got == n:
                break
        elapsed = time.perf_counter() - started
        await task
    return {"rate": n / elapsed}


async def run_capture(url: str, address: str, ca: str, n: int, transport: str) -> dict[str, Any]:
    """A real ``Capture`` of the channel from its start into a fresh store, until all N
    events are committed (the writer's count)."""
    from sfmonitor.capture import Capture
    from sfmonitor.store import CaptureStore, Subscription
    from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile

    with tempfile.TemporaryDirectory() as tmp, CaptureStore.open(Path(tmp) / "d") as store:
        profile = save_emulator_profile(store, url, (), "Bench")
        profile.pubsub_endpoint = address  # TLS, verified with the emulator's CA
        profile = store.save_profile(profile)
        assert profile.id is not None
        sub = Subscription(CHANNEL, replay_policy="all", transport=transport)
        store.set_subscription(profile.id, sub)
        done = asyncio.Event()

        def written(_result: object) -> None:
            if capture.writer.stored >= n:
                done.set()

        capture = Capture(
            store,
            profile,
            DEMO_SECRETS,
            store.subscriptions(profile.id),
            on_written=written,
            client_options={"ssl": ca},
        )
        started = time.perf_counter()
        task = asyncio.ensure_future(capture.run())
        waiting = asyncio.ensure_future(done.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # a capture that failed says why
        elapsed = time.perf_counter() - started
        await capture.stop()
        await task
        stored = capture.writer.stored
    return {"rate": stored / elapsed}


def run_node(url: str, address: str, ca: str, n: int) -> dict[str, Any]:
    from tests.pubsub.node_client import NODE_DIR

    env = {
        **os.environ,
        "LOGIN_URL": url,
        "CLIENT_ID": DEFAULT_CLIENT_ID,
        "CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "NODE_EXTRA_CA_CERTS": ca,
        "QUIET": "1",
    }
    port = address.rpartition(":")[2]
    out = subprocess.run(
        ["node", "run.mjs", f"localhost:{port}", CHANNEL, str(n)],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    line = json.loads(out.stdout.strip().splitlines()[-1])
    return {"rate": line["count"] / line["seconds"], "peak_rss_mb": line["maxRssKb"] / 1024}


def worker(kind: str, url: str, address: str, ca: str, n: int) -> None:
    pin(0)
    if kind == "node":
        result = run_node(url, address, ca, n)  # node reports its own peak RSS
    else:
        if kind.endswith("-store"):
            coro = run_capture(url, address, ca, n, kind.removesuffix("-store"))
        elif kind == "pubsub":
            coro = run_pubsub(url, address, ca, n)
        else:
            coro = run_cometd(url, ca, n)
        result = asyncio.run(coro)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


async def start_emulator(folder: Path) -> tuple[asyncio.subprocess.Process, str, str, str]:
    from tests.helpers.tls import make_tls

    ca, _ = make_tls(folder)
    emulator = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from benchmarks.client_throughput import pin; pin(1); "
        "from sfmonitor.emulator.__main__ import main; sys.exit(main(sys.argv[1:]))",
        *("--pubsub-port", "0", "--max-batch", "1000"),
        *("--tls-cert", str(folder / "server.pem"), "--tls-key", str(folder / "server.key")),
        stdout=subprocess.PIPE,
        cwd=str(ROOT),
    )
    assert emulator.stdout is not None
    words = (await emulator.stdout.readline()).decode().split()
    return emulator, words[-3], words[-1], str(ca)


async def bench(n: int, rounds: int) -> None:
    from tests.pubsub.node_client import node_ready

    reason = node_ready()
    kinds = KINDS if reason is None else tuple(k for k in KINDS if k != "node")
    if reason:
        print(f"(Node client left out: {reason})")
    with tempfile.TemporaryDirectory() as tmp:
        emulator, url, address, ca = await start_emulator(Path(tmp))
        results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
        try:
            connector = aiohttp.TCPConnector(
                ssl=__import__("ssl").create_default_context(cafile=ca)
            )
            async with aiohttp.ClientSession(connector=connector) as http:
                started = time.perf_counter()
                async with http.post(
                    f"{url}/__emulator/generate",
                    json={"channel": CHANNEL, "count": n, "payload_bytes": 512},
                ) as r:
                    assert r.status == 200, await r.text()
                print(f"published {n:,} events in {time.perf_counter() - started:.1f} s")
            for i in range(rounds):
                order = kinds[i % len(kinds) :] + kinds[: i % len(kinds)]
                for kind in order:
                    out = subprocess.run(
                        [sys.executable, __file__, "--worker", kind, url, address, ca, str(n)],
                        capture_output=True,
                        text=True,
                        timeout=900,
                        cwd=str(ROOT),
                    )
                    if out.returncode != 0:
                        raise RuntimeError(f"{kind} worker failed: {out.stderr[-2000:]}")
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    results[kind].append(result)
                    print(
                        f"  round {i + 1} {kind:12}: {result['rate']:>9,.0f} events/s, "
                        f"peak RSS {result['peak_rss_mb']:.0f} MB",
                        flush=True,
                    )
        finally:
            emulator.terminate()
            await emulator.wait()
    report(results, n, rounds)


def report(results: dict[str, list[dict[str, float]]], n: int, rounds: int) -> None:
    median = {k: statistics.median(r["rate"] for r in v) for k, v in results.items()}
    rss = {k: max(r["peak_rss_mb"] for r in v) for k, v in results.items()}
    avro = statistics.median(r["avro_bytes"] for r in results["pubsub"])
    print(f"N={n:,} CDC events of ~512 B as CometD JSON ({avro:.0f} B as Avro), {rounds} rounds")
    names = {
        "pubsub": "ours, Pub/Sub",
        "node": "Node client, Pub/Sub",
        "cometd": "ours, CometD",
        "pubsub-store": "ours, Pub/Sub -> store",
        "cometd-store": "ours, CometD -> store",
    }
    for kind, rate in median.items():
        peak = f"peak RSS {rss[kind]:.0f} MB"
        print(f"  {names[kind]:24} {rate:>9,.0f} decoded events/s (median), {peak}")
    if "node" in median:
        print(f"  ratio ours/Node (Pub/Sub): {median['pubsub'] / median['node']:.2f} (must be > 1)")
    print(f"  ratio Pub/Sub/CometD (ours): {median['pubsub'] / median['cometd']:.2f}")
    into = median["pubsub-store"]
    print(f"  ratio into the store / decode only (Pub/Sub): {into / median['pubsub']:.2f}")
    print(f"  ratio Pub/Sub/CometD into the store: {into / median['cometd-store']:.2f}")
    for label, rate in (("decoded", median["pubsub"]), ("decoded into the store", into)):
        verdict = "met" if rate >= 30_000 else "NOT met"
        print(f"  target >= 30,000 events/s {label} (Pub/Sub): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, url, address, ca, n = args.worker
        worker(kind, url, address, ca, int(n))
        return
    asyncio.run(bench(args.events, args.rounds))


if __name__ == "__main__":
    main()
