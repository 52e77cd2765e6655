"""Every code example of aio-sf-streaming's quickstart, run against the emulator with only the
import (and ``login_url``) changed. Where the quickstart says "# process events", the test
processes a few and checks them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
)
from sfmonitor.streaming import ReplayType, SimpleSalesforceStreaming
from tests.helpers.emulator_thread import emulator_thread


def publish_soon(emulator: Emulator, channel: str, n: int, delay: float = 0.2) -> None:
    def fire() -> None:
        for i in range(n):
            emulator.org.publish_any(channel, {"Name": f"event {i}"})

    asyncio.get_running_loop().call_later(delay, fire)


@pytest.mark.asyncio
async def test_start_and_stop(emulator: Emulator, credentials: dict[str, Any]) -> None:
    client = SimpleSalesforceStreaming(
        username=credentials["username"],
        password=credentials["password"],
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        login_url=emulator.url,
    )
    assert emulator.org.sessions == {}  # the constructor connects nothing
    await client.start()
    # process events
    assert len(emulator.org.sessions) == 1
    await client.stop()
    assert emulator.org.sessions == {}  # stop() sent /meta/disconnect


@pytest.mark.asyncio
async def test_context_manager(emulator: Emulator, credentials: dict[str, Any]) -> None:
    async with SimpleSalesforceStreaming(
        username=credentials["username"],
        password=credentials["password"],
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        login_url=emulator.url,
    ) as client:
        # process events
        assert client.client_id in emulator.org.sessions
    assert emulator.org.sessions == {}


@pytest.mark.asyncio
async def test_subscribe_and_unsubscribe(emulator: Emulator, credentials: dict[str, Any]) -> None:
    async with SimpleSalesforceStreaming(**credentials) as client:
        # Subscribe to push topic
        await client.subscribe("/topic/Foo")
        # Subscribe to generic event
        await client.subscribe("/u/MyEvent")

        # Process events
        session = emulator.org.sessions[client.client_id]
        assert set(session.subscriptions) == {"/topic/Foo", "/u/MyEvent"}

        # Unsubscribe from push topic
        await client.unsubscribe("/topic/Foo")
        # Unsubscribe from generic event
        await client.unsubscribe("/u/MyEvent")
        assert session.subscriptions == {}


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_subscribe_from_other_tasks_with_loop_argument() -> None:
    """The quickstart's loop= example, run as written: its own loop, run_until_complete."""
    received: list[str] = []
    with emulator_thread(connect_timeout=2.0) as emu:
        emu.call(
            lambda: (emu.emulator.org.ensure_topic("Foo"), emu.emulator.org.ensure_topic("Bar"))
        )
        credentials = {
            "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "login_url": emu.url,
        }

        async def process(loop: asyncio.AbstractEventLoop) -> None:
            async with SimpleSalesforceStreaming(**credentials, loop=loop) as client:
                loop.create_task(client.subscribe("/topic/Foo"))
                loop.create_task(client.subscribe("/topic/Bar"))
                # Process events
                await asyncio.sleep(0.3)
                emu.call(
                    lambda: [
                        emu.emulator.org.publish_any(ch, {"Name": "x"})
                        for ch in ("/topic/Foo", "/topic/Bar")
                    ]
                )
                async for event in client.events():
                    received.append(event["channel"])
                    if len(received) == 2:
                        break

        loop = asyncio.new_event_loop()  # the quickstart's asyncio.get_event_loop()
        try:
            with pytest.warns(DeprecationWarning, match="loop argument is ignored"):
                loop.run_until_complete(process(loop))
        finally:
            loop.close()
    assert sorted(received) == ["/topic/Bar", "/topic/Foo"]


@pytest.mark.asyncio
async def test_receive_events(emulator: Emulator, credentials: dict[str, Any]) -> None:
    seen = []
    async with SimpleSalesforceStreaming(**credentials) as client:
        await client.subscribe("/topic/Foo")
        await client.subscribe("/topic/Bar")
        publish_soon(emulator, "/topic/Foo", 2)
        publish_soon(emulator, "/topic/Bar", 1)

        async for event in client.events():
            channel = event["channel"]
            print(f"Received an event from {channel} : {event}")
            seen.append(channel)
            if len(seen) == 3:
                break
    assert sorted(seen) == ["/topic/Bar", "/topic/Foo", "/topic/Foo"]


@pytest.mark.asyncio
async def test_break_out_of_the_loop(emulator: Emulator, credentials: dict[str, Any]) -> None:
    printed = []
    async with SimpleSalesforceStreaming(**credentials) as client:
        await client.subscribe("/topic/Foo")
        await client.subscribe("/topic/Bar")
        publish_soon(emulator, "/topic/Bar", 2)
        publish_soon(emulator, "/topic/Foo", 1, delay=0.5)

        async for event in client.events():
            channel = event["channel"]
            if channel == "/topic/Foo":
                break
            else:
                print(event)
                printed.append(event)
    assert len(printed) == 2


@pytest.mark.asyncio
async def test_ask_stop_ends_a_waiting_loop_promptly(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    emulator.org.config.connect_timeout = 100.0  # the pending long poll would take 100 s
    async with SimpleSalesforceStreaming(**credentials) as client:
        await client.subscribe("/topic/Foo")

        async def consume() -> None:
            async for _ in client.events():
                pass

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.3)
        started = asyncio.get_running_loop().time()
        await client.ask_stop()
        await asyncio.wait_for(task, 1.0)
        assert asyncio.get_running_loop().time() - started < 1.0


def parse_time(text: str) -> datetime:  # the quickstart's "custom function to implement"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.asyncio
async def test_replay_example(emulator: Emulator, credentials: dict[str, Any]) -> None:
    class MyClient(SimpleSalesforceStreaming):
        # the quickstart writes "def __init__(*args, **kwargs)", which cannot run in any
        # library (self is undefined); "self" is the one change made here
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.replays: dict[str, Any] = {}
            super().__init__(*args, **kwargs)

        async def store_replay_id(self, channel: str, replay_id: int, creation_time: str) -> None:
            # we does not want to store the replay id if a most recent one is
            # already stored
            last_storage = self.replays.get(channel, None)
            creation_time = parse_time(creation_time)  # type: ignore[assignment]
            if last_storage and last_storage[0] > creation_time:
                return
            self.replays[channel] = (creation_time, replay_id)

        async def get_last_replay_id(self, channel: str) -> int | ReplayType:
            # Retrieve last replay
            last_storage = self.replays.get(channel, None)
            # If we have not any stored replay id, we can either replay all
            # events or only subscribe to new ones.
            if not last_storage:
                return ReplayType.NEW_EVENTS
            return last_storage[1]  # type: ignore[no-any-return]

    channels = [
        "/topic/Foo",
        "/event/Low_Ink__e",
        "/data/AccountChangeEvent",
        "/u/MyEvent",
        "/event/LoginEventStream",
    ]
    client = MyClient(**credentials)
    async with client:
        for ch in channels:
            await client.subscribe(ch)
        for ch in channels:
            emulator.org.publish_any(ch, {"Name": "x"})
        got = 0
        async for _ in client.events():
            got += 1
            if got == len(channels):
                break
    assert set(client.replays) == set(channels)  # every kind, PE and CDC included
    # a new client resumes from the stored ids: only later events arrive
    later = {ch: emulator.org.publish_any(ch, {"Name": "y"}).replay_id for ch in channels}
    again = MyClient(**credentials)
    again.replays = dict(client.replays)
    received: dict[str, int] = {}
    async with again:
        for ch in channels:
            await again.subscribe(ch)
        async for event in again.events():
            received[event["channel"]] = event["data"]["event"]["replayId"]
            if len(received) == len(channels):
                break
    assert received == later
