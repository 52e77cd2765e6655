"""The client against a hostile (or just unusual) server, stream level: odd replay ids,
advice of the wrong type, messages too deep to parse, a flood of unsubscribed channels,
a held first connect, and a client clock ahead of the server's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
import pytest_asyncio
from aiohttp import web

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.streaming import (
    ChannelChange,
    ConnectionState,
    GapNotice,
    LiveSince,
    Notice,
    SimpleSalesforceStreaming,
    StateChange,
    StreamEvent,
)
from tests.helpers.hostile import HostileServer, deep_event, event

pytestmark = pytest.mark.asyncio
FOO = "/topic/Foo"


class Recorder(SimpleSalesforceStreaming):
    """Records what ``store_replay_id`` is called with (the seed's replay hook)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored: list[tuple[str, int]] = []
        self.notices: list[Notice] = []
        self.add_listener(self.notices.append)

    async def store_replay_id(self, channel: str, replay_id: int, creation_time: str) -> None:
        self.stored.append((channel, replay_id))


def recorder(url: str, **options: Any) -> Recorder:
    return Recorder("ada@example.com", "pw", "client-id", "secret", login_url=url, **options)


async def collect(
    client: SimpleSalesforceStreaming, until: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Events until ``until(received)`` holds (bounded, so that a failure cannot hang)."""
    received: list[dict[str, Any]] = []

    async def run() -> None:
        async for message in client.events():
            received.append(message)
            if until(received):
                return

    await asyncio.wait_for(run(), 30)
    return received


def ids(received: list[dict[str, Any]]) -> list[Any]:
    return [m["data"]["event"]["replayId"] for m in received]


async def test_odd_replay_ids_are_delivered_and_never_poison_the_channel() -> None:
    odd = [2**63, 2**64 - 1, 10**30, -5, 0, "7", 1.5, True, None]
    async with HostileServer() as org:
        client = recorder(org.url)
        async with client:
            await client.subscribe(FOO)
            org.bayeux.push([event(FOO, value) for value in odd] + [event(FOO, 10)])
            org.bayeux.push([event(FOO, 11), event(FOO, 12)])
            received = await collect(client, lambda r: ids(r)[-1:] == [12])
    # every event delivered, in order (10**30 arrives as a float: orjson's reading of it)
    assert ids(received) == [2**63, 2**64 - 1, 1e30, -5, 0, "7", 1.5, True, None, 10, 11, 12]
    assert client.stored == [(FOO, 10), (FOO, 11), (FOO, 12)]  # never an odd id
    events = [StreamEvent.from_message(m) for m in received]
    assert [e.replay_id for e in events] == [None] * len(odd) + [10, 11, 12]


async def test_advice_of_the_wrong_type_is_ignored() -> None:
    async with HostileServer() as org:
        org.bayeux.advice = {"timeout": "abc", "interval": "soon", "reconnect": 5}
        client = recorder(org.url)
        async with client:
            await client.subscribe(FOO)
            org.bayeux.push([event(FOO, 1)])
            org.bayeux.advice = {"timeout": float("inf"), "interval": -1, "reconnect": []}
            org.bayeux.push([event(FOO, 2)])
            org.bayeux.advice = ["not", "an", "object"]
            org.bayeux.push([event(FOO, 3)])
            received = await collect(client, lambda r: len(r) == 3)
            assert client.state is ConnectionState.CONNECTED
    assert ids(received) == [1, 2, 3]


async def test_a_subscribe_during_an_advised_retry_goes_out_in_the_same_session() -> None:
    """A connect refused with advice ``retry`` leaves the session up (Bayeux: poll again
    after a pause). A subscribe asked during that pause must still be sent: it used to wait
    for a re-handshake that never came, and hung for ever."""
    async with HostileServer() as org:
        refused = asyncio.Event()

        async def cometd(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            if b"/meta/connect" in body and org.bayeux.connects == 1 and not refused.is_set():
                refused.set()
                reply = {
                    "channel": "/meta/connect",
                    "successful": False,
                    "error": "500::try again",
                    "advice": {"reconnect": "retry", "interval": 0},
                }
                return web.Response(body=orjson.dumps([reply]), content_type="application/json")
            return await org.bayeux.handle(request)

        org.on("/cometd/68.0", cometd)
        client = recorder(org.url)
        paused = asyncio.Event()  # told as the client starts the advised pause (>= 0.25 s)
        client.add_listener(
            lambda n: (
                paused.set()
                if isinstance(n, StateChange) and n.state is ConnectionState.RECONNECTING
                else None
            )
        )
        async with client:
            await asyncio.wait_for(paused.wait(), 30)
            assert refused.is_set()
            replies = await asyncio.wait_for(client.subscribe(FOO), 10)
            assert replies[0]["successful"] is True
            org.bayeux.push([event(FOO, 1)])
            received = await collect(client, lambda r: len(r) == 1)
    assert ids(received) == [1]
    assert len(org.requests_to("/cometd/68.0")) >= 3
    assert sum(1 for s in org.seen if b"/meta/handshake" in s.body) == 1  # one session


async def test_a_message_too_deep_to_parse_is_skipped_with_a_gap_and_the_stream_goes_on() -> None:
    async with HostileServer() as org:
        client = recorder(org.url)
        async with client:
            await client.subscribe(FOO)
            org.bayeux.push([event(FOO, 4)])
            deep = deep_event(FOO, 5, 100_000)  # valid JSON, 100,000 levels
            org.bayeux.push(b"[" + deep + b"," + orjson.dumps(event(FOO, 6)) + b"]")
            org.bayeux.push([event(FOO, 7)])
            received = await collect(client, lambda r: ids(r)[-1:] == [7])
    assert ids(received) == [4, 6, 7]
    gaps = [n for n in client.notices if isinstance(n, GapNotice)]
    assert len(gaps) == 1
    assert gaps[0].channel == FOO and gaps[0].action == "skipped"
    assert gaps[0].stored_replay_id == 4 and "nesting too deep" in gaps[0].server_text
    assert not any(  # no reconnect: the reply was not thrown away
        isinstance(n, StateChange) and n.state is ConnectionState.RECONNECTING
        for n in client.notices
    )


async def test_a_flood_of_unsubscribed_channels_keeps_no_state() -> None:
    async with HostileServer() as org:
        client = recorder(org.url)
        async with client:
            await client.subscribe(FOO)
            n = 0
            for _ in range(10):
                org.bayeux.push([event(f"/topic/Other{n + i}", 1) for i in range(5000)])
                n += 5000
            org.bayeux.push([event(FOO, 99)])
            received = await collect(client, lambda r: True)
            session = client._require()
            assert ids(received) == [99]  # events() holds only subscribed channels
            assert set(session.high) == {FOO}  # 50,000 other channels left no trace
            assert client.stored == [(FOO, 99)]


async def test_start_returns_while_the_first_connect_is_held() -> None:
    async with HostileServer() as org:
        org.bayeux.hold_first_connect = True  # as Faye does, for up to 60 s
        client = recorder(org.url)
        await asyncio.wait_for(client.start(), 10)
        try:
            assert client.state is ConnectionState.CONNECTED
            reply = await asyncio.wait_for(client.subscribe(FOO), 10)
            assert reply[0]["successful"]
            assert org.bayeux.connects == 1  # the first connect is still held
            org.bayeux.release.set()
            org.bayeux.push([event(FOO, 1)])
            received = await collect(client, lambda r: True)
            assert ids(received) == [1]
        finally:
            await client.stop()


async def test_start_returns_against_an_emulator_that_holds_the_first_connect(
    credentials: dict[str, Any],
) -> None:
    async with Emulator(EmulatorConfig(connect_timeout=60.0, hold_first_connect=True)) as emu:
        client = SimpleSalesforceStreaming(**{**credentials, "login_url": emu.url})
        await asyncio.wait_for(client.start(), 10)
        try:
            await asyncio.wait_for(client.subscribe("/u/news"), 10)
            emu.org.publish_any("/u/news", "held, then released")
            received = await collect(client, lambda r: True)
            assert received[0]["data"]["payload"] == "held, then released"
        finally:
            await client.stop()


# --- a client clock ahead of the server's --------------------------------------------------------


@pytest_asyncio.fixture
async def behind() -> AsyncIterator[Emulator]:
    """An emulator whose clock is an hour behind ours (our clock is an hour ahead)."""
    async with Emulator(EmulatorConfig(connect_timeout=1.0)) as emu:
        emu.org.clock.advance(-3600)
        yield emu


async def test_a_client_clock_ahead_loses_nothing_when_a_new_channel_resumes(
    behind: Emulator, credentials: dict[str, Any]
) -> None:
    """Live with -1, nothing received, the session lost, 100 events published: the -2
    resume keeps them all (it used to compare our clock with the server's dates: 0 of 100)."""
    client = SimpleSalesforceStreaming(**{**credentials, "login_url": behind.url})
    async with client:
        await client.subscribe("/event/Low_Ink__e")
        behind.restart()
        for i in range(100):
            behind.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": i / 100})
        received = await collect(client, lambda r: len(r) == 100)
    assert len({m["data"]["event"]["replayId"] for m in received}) == 100


async def test_a_stored_live_since_point_uses_the_servers_time(
    behind: Emulator, credentials: dict[str, Any]
) -> None:
    """Across runs: the live-since point a store keeps (ChannelChange.at) is the server's
    time, so a run with a skewed clock keeps the 100 new events and drops the 5 older."""
    channel = "/event/Low_Ink__e"
    behind.org.clock.advance(-600)
    for i in range(5):  # ten minutes before the channel went live
        behind.org.publish_any(channel, {"Ink_Percentage__c": 0.5, "Old__c": i})
    behind.org.clock.advance(600)
    notices: list[Notice] = []
    first = SimpleSalesforceStreaming(**{**credentials, "login_url": behind.url})
    first.add_listener(notices.append)
    async with first:
        await first.subscribe(channel)
    live = next(n for n in notices if isinstance(n, ChannelChange) and n.status.value == "live")
    for i in range(100):
        behind.org.publish_any(channel, {"Ink_Percentage__c": i / 100})

    class Resumed(SimpleSalesforceStreaming):
        async def get_last_replay_id(self, channel: str) -> LiveSince:
            return LiveSince(live.at)

    second = Resumed(**{**credentials, "login_url": behind.url})
    async with second:
        await second.subscribe(channel)
        received = await collect(second, lambda r: len(r) >= 100)
        await asyncio.sleep(0.3)  # the old five, had they been kept, came first anyway
    assert len(received) == 100
    assert not any("Old__c" in m["data"]["payload"] for m in received)
