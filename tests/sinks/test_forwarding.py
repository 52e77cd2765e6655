"""Each sink against its real server: 10,000 events from the emulator through a capture and
the store; a forwarder killed in the middle of a batch; a sink that is down at first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sfmonitor.demo import save_emulator_profile
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.sinks import SinkState
from sfmonitor.store import CaptureStore, EventQuery
from tests.sinks.helpers import (
    CHANNELS,
    capturing,
    check_complete,
    forwarder_for,
    publish,
    stored_order,
    until,
)
from tests.sinks.targets import make_target

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]
KINDS = ("ndjson", "kafka", "postgres")
EVENTS = 10_000


@pytest.mark.parametrize("kind", KINDS)
async def test_ten_thousand_events_from_the_emulator_reach_the_sink_in_order(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target(kind, request, tmp_path, up=True)
    folder = tmp_path / "data"
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
        org_id = emulator.org.org_id
        with CaptureStore.open(folder) as store:
            profile = save_emulator_profile(store, emulator.url, CHANNELS)
            assert profile.id is not None
            forwarder = forwarder_for(folder, profile.id, target.url, org_id)
            forwarding = asyncio.ensure_future(forwarder.run())
            async with capturing(store, profile) as capture:
                capture.writer.on_written = lambda _result: forwarder.nudge()
                await publish(emulator, EVENTS)
                await until(lambda: store.count(EventQuery(profile.id)) >= EVENTS, 120, "capture")
            await until(
                lambda: forwarder.lag.forwarded >= EVENTS and forwarder.lag.events == 0,
                120,
                "the sink to catch up",
            )
            forwarder.stop()
            await forwarding
    order = stored_order(folder / "capture.db", profile.id)
    assert sum(map(len, order.values())) == EVENTS
    duplicates = check_complete(order, await target.read(org_id))
    assert duplicates == 0  # nothing failed: each event was sent once
