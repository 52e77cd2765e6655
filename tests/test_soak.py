"""A short chaos soak (the long one is benchmarks/soak.py): events of every kind while a
fault fires every second; every event stored once, except those a recorded gap covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.soak import FAULTS, soak

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
