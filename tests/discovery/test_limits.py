"""Limits against the emulator: what a replay really spends, the replay check, refusals."""

from __future__ import annotations

import asyncio

import pytest

from sfmonitor.discovery import (
    DELIVERY,
    STREAMING_LIMITS,
    Kind,
    RestError,
    check_replay,
    fetch_limits,
    parse_limits,
    publish_event,
)
from sfmonitor.streaming import ReplayType, SimpleSalesforceStreaming
from tests.discovery.conftest import LIMITED, MakeEmulator, credentials, login, users

pytestmark = pytest.mark.asyncio
CHANNEL = "/event/Order_Placed__e"


async def replay_all(emu_url: str, creds: dict[str, str], count: int) -> list[int]:
    """Subscribe with our CometD client from the oldest retained event; the replay ids."""
    ids: list[int] = []
    async with SimpleSalesforceStreaming(**creds) as client:
        reply = await client.subscribe(CHANNEL, replay=ReplayType.ALL_EVENTS)
        assert reply[0]["successful"], reply
        async for event in client.events():
            ids.append(event["data"]["event"]["replayId"])
            if len(ids) == count:
                break
    return ids


async def test_a_replay_spends_the_delivery_allocation(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(daily_platform_events=1000)
    token = await login(emu.url)
    for i in range(25):
        await publish_event(emu.url, token, CHANNEL, {"Order_Number__c": f"R-{i}"})
    before = await fetch_limits(emu.url, token)
    assert before.delivery is not None and before.delivery.max == 1000
    assert before.delivery.remaining == 1000  # publishing spends nothing of it
    assert before.get("HourlyPublishedPlatformEvents").used == 25  # type: ignore[union-attr]
    check = check_replay(before, 25, Kind.PLATFORM_EVENT)
    assert check.allocation == DELIVERY and not check.likely_exceeds
    assert len(await replay_all(emu.url, credentials(emu), 25)) == 25
    after = await fetch_limits(emu.url, token)
    assert after.delivery.remaining == 975  # type: ignore[union-attr]
    # 37 subscribers replaying everything again: 925, just within the 5 % margin (50)
    assert not check_replay(after, 25, subscribers=37).likely_exceeds
    assert check_replay(after, 926, Kind.CHANGE_EVENT).likely_exceeds  # 975 - 50 = 925
    assert "would likely run out" in check_replay(after, 926).message


async def test_an_exhausted_allocation_reads_zero_and_any_replay_exceeds(
    make_emulator: MakeEmulator,
) -> None:
    emu = await make_emulator()
    token = await login(emu.url)
    emu.exhaust_allocation(DELIVERY)
    limits = await fetch_limits(emu.url, token)
    assert limits.delivery.remaining == 0  # type: ignore[union-attr]
    assert check_replay(limits, 1).likely_exceeds
    assert not check_replay(limits, 0).likely_exceeds
    # what the allocation says is what a subscriber meets
    async with SimpleSalesforceStreaming(**credentials(emu)) as client:
        reply = await client.subscribe(CHANNEL)
    assert not reply[0]["successful"]
    assert "limit exceeded" in reply[0]["error"]


async def test_the_streaming_counters_are_reported(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    limits = await fetch_limits(emu.url, await login(emu.url), "62.0")
    names = [limit.name for limit in limits.streaming()]
    assert names == list(STREAMING_LIMITS)
    entitlement = limits.get("MonthlyPlatformEventsUsageEntitlement")
    assert entitlement is not None and entitlement.max == 0  # no add-on
    assert check_replay(limits, 10**6, Kind.MONITORING).allocation is None
    assert check_replay(limits, 5, Kind.PUSH_TOPIC).allocation == "DailyDurableStreamingApiEvents"


async def test_limits_refused_without_view_setup(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(users=users())
    with pytest.raises(RestError) as refused:
        await fetch_limits(emu.url, await login(emu.url, LIMITED))
    assert refused.value.status == 403 and refused.value.permission
    assert refused.value.code == "INSUFFICIENT_ACCESS"


async def test_parse_limits_keeps_counters_and_skips_the_rest() -> None:
    limits = parse_limits(
        {
            "DailyDeliveredPlatformEvents": {"Max": 50000, "Remaining": 40000},
            "DailyApiRequests": {"Max": 15000, "Remaining": 14998, "Ant Migration Tool": {}},
            "Odd": {"Max": "many"},
            "Flag": {"Max": True, "Remaining": 1},
            "NotADict": 3,
        }
    )
    assert sorted(limits.values) == ["DailyApiRequests", "DailyDeliveredPlatformEvents"]
    assert limits.delivery is not None and limits.delivery.used_fraction == 0.2
    assert limits.to_dict()["DailyDeliveredPlatformEvents"] == {"Max": 50000, "Remaining": 40000}
    with pytest.raises(ValueError):
        check_replay(limits, -1)
    await asyncio.sleep(0)
