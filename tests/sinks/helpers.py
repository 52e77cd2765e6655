"""Filling a store from the emulator through a real capture, forwarding it, and reading
each kind of sink back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sfmonitor.capture import Capture
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.sinks import (
    Forwarder,
    SinkContext,
    SqliteCursorStore,
    SqliteOutbox,
    make_sink,
    parse_sink_url,
    split_secret,
)
from sfmonitor.store import CaptureStore, EventQuery, Profile
from sfmonitor.streaming.state import Backoff
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

CHANNELS = ("/topic/Foo", "/event/Low_Ink__e", "/data/AccountChangeEvent", "/u/news")
ORG_ID = "00DDn00000000000Ab"  # overwritten by the emulator's own id where one runs
CURSORS = "sink-cursors.db"
Key = tuple[str, int]


@contextlib.asynccontextmanager
async def capturing(
    store: CaptureStore, profile: Profile, on_written: Callable[[], None] | None = None
) -> AsyncIterator[Capture]:
    """A capture of ``profile`` running in a task (replaying everything retained);
    ``on_written`` is called after each write to the store (a forwarder's ``nudge``)."""
    capture = Capture(
        store,
        profile,
        DEMO_SECRETS,
        store.subscriptions(profile.id or 0),
        replay="all",
        on_written=None if on_written is None else lambda _result: on_written(),
    )
    task = asyncio.ensure_future(capture.run())
    try:
        yield capture
    finally:
        await capture.stop()
        await asyncio.wait_for(task, 30)


async def publish(emulator: Emulator, count: int) -> None:
    """``count`` events spread over the channels (the emulator's generator)."""
    emulator.org.ensure_topic("Foo")
    per_channel, extra = divmod(count, len(CHANNELS))
    for i, channel in enumerate(CHANNELS):
        await emulator.generate(channel, per_channel + (i < extra), 300)


def stored_order(store_path: Path, profile_id: int) -> dict[str, list[int]]:
    """Each channel's replay ids in the order the store holds them (the order to keep)."""
    with CaptureStore.open(store_path.parent, read_only=True) as store:
        rows = store.fetch(EventQuery(profile_id), limit=10**7)
    order: dict[str, list[int]] = {}
    for row in rows:
        if row.kind != "gap" and row.replay_id is not None:
            order.setdefault(row.channel, []).append(row.replay_id)
    return order


@dataclass
class Filled:
    """A data folder whose store holds events a real capture received."""

    folder: Path
    profile_id: int
    org_id: str
    order: dict[str, list[int]]

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.order.values())


async def fill_store(folder: Path, count: int) -> Filled:
    """The emulator publishes ``count`` events; a capture stores them all, then stops."""
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
        with CaptureStore.open(folder) as store:
            profile = save_emulator_profile(store, emulator.url, CHANNELS)
            await publish(emulator, count)
            async with capturing(store, profile):
                await wait_until(
                    lambda: store.count(EventQuery(profile.id)) >= count, 120, "capture"
                )
            org_id = emulator.org.org_id
    assert profile.id is not None
    order = stored_order(folder / "capture.db", profile.id)
    return Filled(folder, profile.id, org_id, order)


def forwarder_for(
    folder: Path, profile_id: int, url: str, org_id: str, **options: Any
) -> Forwarder:
    """A forwarder of the store in ``folder`` to the sink at ``url`` (a password in the URL
    is split off and handed to the sink as the keyring would), cursors in a side file."""
    clean, secret = split_secret(url)
    spec = parse_sink_url(clean)
    sink = make_sink(spec, SinkContext(org_id), secret)
    outbox = SqliteOutbox(folder / "capture.db", profile_id)
    cursors = SqliteCursorStore(folder / CURSORS, profile_id, create=True)
    options.setdefault("backoff", Backoff(base=0.05, cap=0.5))
    return Forwarder(sink, outbox, cursors, spec.sink_id, **options)


async def forward_all(forwarder: Forwarder, total: int, timeout: float = 120) -> None:
    """Run the forwarder until its cursor has passed ``total`` events and none is behind."""
    task = asyncio.ensure_future(forwarder.run())
    try:
        await wait_until(
            lambda: task.done() or (forwarder.lag.forwarded >= total and forwarder.lag.events == 0),
            timeout,
            f"forwarding {total} events",
        )
    finally:
        forwarder.stop()
        await asyncio.wait_for(task, 30)


# --- reading sinks back --------------------------------------------------------------------


def check_complete(order: dict[str, list[int]], got: list[Key]) -> int:
    """Every (channel, replay id) of ``order`` is in ``got``, nothing else, and each
    channel's first occurrences come in the store's order; returns the duplicates."""
    seen: set[Key] = set()
    firsts: dict[str, list[int]] = {}
    for key in got:
        if key not in seen:
            seen.add(key)
            firsts.setdefault(key[0], []).append(key[1])
    expected = {(c, r) for c, ids in order.items() for r in ids}
    assert not expected - seen, f"{len(expected - seen)} events missing"
    assert not seen - expected, f"{len(seen - expected)} events that were never stored"
    for channel, ids in order.items():
        assert firsts[channel] == ids, f"{channel}: out of order"
    return len(got) - len(seen)


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def read_kafka(bootstrap: str, topics: list[str]) -> list[Any]:
    """Every record of ``topics`` up to their end offsets now, each partition in order."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        await consumer.topics()  # fetches the cluster's metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        assert partitions, f"no partitions for {topics}"
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + 60
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, f"read only {len(records)} records"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def read_postgres(url: str, table: str) -> list[Any]:
    import asyncpg

    clean, secret = split_secret(url)
    conn = await asyncpg.connect(clean.split("?")[0], password=secret)
    try:
        return list(await conn.fetch(f'SELECT * FROM "{table}" ORDER BY seq'))
    finally:
        await conn.close()
