"""Replay semantics (-1, -2, N), non-contiguous ids, retention on a movable clock, and the
replay-map errors (reference §2.6, §4.6)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sfmonitor.emulator import Emulator
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio

CH = "/event/Low_Ink__e"


def ids(events: list[dict[str, Any]]) -> list[int]:
    return [e["data"]["event"]["replayId"] for e in events]


async def publish(emu: Emulator, n: int, channel: str = CH) -> list[int]:
    return [emu.org.publish_any(channel, {"Seq__c": i}).replay_id for i in range(n)]


async def test_replay_ids_increase_but_are_not_contiguous(emulator: Emulator) -> None:
    published = await publish(emulator, 12)
    assert published == sorted(set(published))
    steps = {b - a for a, b in itertools.pairwise(published)}
    assert 1 in steps and len(steps) > 1


async def test_new_events_only(emulator: Emulator) -> None:
    await publish(emulator, 3)
    async with BayeuxProbe(emulator.url) as p:
        await p.start(CH, replay=-1)
        later = await publish(emulator, 2)
        assert ids(await p.events(2)) == later


async def test_no_replay_ext_means_new_only(emulator: Emulator) -> None:
    await publish(emulator, 3)
    async with BayeuxProbe(emulator.url) as p:
        await p.start(CH)
        later = await publish(emulator, 1)
        assert ids(await p.events(1)) == later


async def test_all_retained_then_live(emulator: Emulator) -> None:
    before = await publish(emulator, 5)
    async with BayeuxProbe(emulator.url) as p:
        await p.start(CH, replay=-2)
        after = await publish(emulator, 2)
        assert ids(await p.events(7)) == before + after


async def test_replay_after_id(emulator: Emulator) -> None:
    published = await publish(emulator, 6)
    async with BayeuxProbe(emulator.url) as p:
        await p.start(CH, replay=published[2])
        assert ids(await p.events(3)) == published[3:]


async def test_invalid_replay_id_exact_text(emulator: Emulator) -> None:
    await publish(emulator, 2)
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        reply = await p.subscribe(CH, 999999)
        assert reply == {
            "channel": "/meta/subscribe",
            "id": reply["id"],
            "clientId": p.client_id,
            "subscription": CH,
            "successful": False,
            "error": "400::The replayId {999999} you provided was invalid. Please provide a "
            "valid ID, -2 to replay all events, or -1 to replay only new events.",
        }


async def test_retention_24h_for_pushtopic_72h_for_platform_events(emulator: Emulator) -> None:
    emulator.org.ensure_topic("Accounts")
    old_topic = [emulator.org.publish_any("/topic/Accounts", {"Name": "a"}).replay_id]
    old_pe = await publish(emulator, 1)
    emulator.org.clock.advance(25 * 3600)
    new_topic = emulator.org.publish_any("/topic/Accounts", {"Name": "b"}).replay_id
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/topic/Accounts", replay=-2)
        assert ids(await p.events(1)) == [new_topic]  # the 25 h old one is gone
        reply = await p.subscribe(CH, -2)
        assert reply["successful"]
        assert ids(await p.events(1)) == old_pe  # 25 h < 72 h: still retained
        # a stored id older than what was purged cannot be served without a gap
        reply = await p.subscribe("/topic/Accounts?Name=b", old_topic[0] - 1)
        assert reply["error"].startswith("400::The replayId {")
    emulator.org.clock.advance(48 * 3600)
    async with BayeuxProbe(emulator.url) as p:
        await p.start(CH, replay=-2)
        fresh = await publish(emulator, 1)
        assert ids(await p.events(1)) == fresh


async def test_replay_id_of_purged_event_is_invalid(emulator: Emulator) -> None:
    first = await publish(emulator, 3)
    emulator.org.clock.advance(73 * 3600)
    await publish(emulator, 1)
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        assert not (await p.subscribe(CH, first[0]))["successful"]
        assert (await p.subscribe(CH, first[-1]))["successful"]  # newest purged: no gap


async def test_exact_replay_id_check(make_emulator: Any) -> None:
    emu = await make_emulator(replay_id_check="exact")
    published = await publish(emu, 5)
    gap = next(a + 1 for a, b in itertools.pairwise(published) if b - a > 1)
    async with BayeuxProbe(emu.url) as p:
        await p.start()
        assert (await p.subscribe(CH, published[1]))["successful"]
    async with BayeuxProbe(emu.url) as p:
        await p.start()
        assert not (await p.subscribe(CH, gap))["successful"]


async def test_replay_map_lookup_and_errors(emulator: Emulator) -> None:
    published = await publish(emulator, 3)
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        # EMP-Connector sends its whole map; the server picks the subscribed channel
        reply = await p.subscribe(CH, None, ext={"replay": {"/u/other": -1, CH: published[0]}})
        assert reply["successful"]
        assert ids(await p.events(2)) == published[1:]
        reply = await p.subscribe("/event/Order_Placed__e", None, ext={"replay": {"/u/other": -1}})
        assert reply["error"] == (
            "400::The replayId for channel {/event/Order_Placed__e} wasn't found using the "
            "provided replay ID map {{/u/other=-1}}. Ensure that the channel name you provided "
            "in the replay map is valid and matches the channel name used for subscribing."
        )
        reply = await p.subscribe("/event/Demo_Event__e", None, ext={"replay": {}})
        assert "replay ID map {{}}" in reply["error"]
        reply = await p.subscribe("/event/Demo_Event__e", "abc")
        assert reply["error"].startswith("400::The replayId {abc} you provided was invalid.")
