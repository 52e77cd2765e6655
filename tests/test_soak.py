"""A short chaos soak (the long one is benchmarks/soak.py): events of every kind, over
CometD and the Pub/Sub API in one capture, while a fault of either fires every second;
every event stored once, except those a recorded gap covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.soak import CHANNELS, FAULTS, PUBSUB_CHANNELS, soak

pytestmark = pytest.mark.asyncio


@pytest.mark.timeout(90)
async def test_short_chaos_soak(tmp_path: Path) -> None:
    result = await soak(
        events=12_000, rate=1000, every=0.8, seed=7, folder=tmp_path / "d", settle=30
    )
    print(result.line())
    assert result.published == 12_000
    assert result.lost == 0
    assert result.duplicates == 0
    assert result.stored + result.accounted == result.published
    assert sum(result.faults.values()) >= 8
    assert set(result.faults) <= set(FAULTS)
    assert result.over_pubsub >= 12_000 * len(PUBSUB_CHANNELS) // len(CHANNELS) - result.accounted
