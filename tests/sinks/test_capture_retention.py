"""A capture's retention waits for its sinks: events past the profile's limits that a sink
has not acknowledged stay in the store, the capture says so once, and retention goes on
once the sink has them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sfmonitor.capture import Forwarding, run_sink_plans
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, EventQuery
from sfmonitor.streaming.state import Backoff
from tests.helpers.capture_run import CHANNELS, Run, publish
from tests.helpers.profiles import save_emulator_profile
from tests.sinks.helpers import read_ndjson

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]


async def test_retention_is_held_back_by_an_unacknowledged_cursor(
    store: CaptureStore, tmp_path: Path
) -> None:
    out = tmp_path / "out"  # missing: the NDJSON sink cannot open its file yet
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
        emulator.org.ensure_topic("Foo")
        profile = save_emulator_profile(store, emulator.url, CHANNELS)
        profile = store.save_profile(replace(profile, keep_events=100))
        assert profile.id is not None
        plans = run_sink_plans([f"ndjson://{out}/events.ndjson"])
        forwarding = Forwarding(store.path, profile.id, plans, backoff=Backoff(base=0.05, cap=0.2))
        said: list[str] = []
        run = Run(store, profile, on_warning=said.append, forwarding=forwarding)
        run.capture.retention_every = 0.05
        await run.until(lambda: run.live == set(CHANNELS))
        publish(emulator, 300)
        await run.until(lambda: run.capture.retention_held == 200, 30)
        assert store.count(EventQuery(profile.id)) == 300  # nothing the sink lacks was deleted
        (notice,) = [text for text in said if "retention held back" in text]
        assert f"until ndjson://{out}/events.ndjson acknowledge" in notice
        assert forwarding.lags()[0].state == "retrying"
        out.mkdir()  # the sink is back: it gets everything, then retention goes on
        await run.until(lambda: store.count(EventQuery(profile.id)) == 100, 30)
        await run.until(lambda: run.capture.retention_held == 0)
        await run.stop()
    assert any("retention goes on" in text for text in said)
    assert len(read_ndjson(out / "events.ndjson")) == 300
