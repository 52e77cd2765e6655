"""What the capture needs of the client beyond the error table: a topic started with
LATEST that has received nothing loses nothing to an outage (it replays from EARLIEST and
drops what is older than its start), a stored live-since start does the same after a
restart, a stream is live once it stands unrefused, and a login out of reach while
refreshing a token is tried again instead of stopping the topic."""

from __future__ import annotations

import pytest

from sfmonitor.emulator.pubsub_config import PubSubSettings
from sfmonitor.pubsub import (
    CallbackTokens,
    Credentials,
    EventQueue,
    PubSubConnection,
    ReplayFrom,
    SubscribeSettings,
)
from sfmonitor.streaming import ChannelChange, ChannelStatus
from tests.helpers.waiting import wait_until
from tests.pubsub.helpers import connected, login, pubsub_emulator

pytestmark = pytest.mark.asyncio
TOPIC = "/event/Low_Ink__e"
QUICK = SubscribeSettings(backoff_base=0.02, backoff_cap=0.1, accept_wait=0.2)
SILENT = PubSubSettings(keepalive=3600)  # no keepalive: no position until an event


def live(queue: EventQueue) -> bool:
    return any(
        isinstance(n, ChannelChange) and n.status is ChannelStatus.LIVE for n in queue.notices
    )


async def test_a_latest_topic_with_nothing_received_loses_nothing_to_an_outage() -> None:
    async with pubsub_emulator(pubsub=SILENT) as emu, connected(emu) as conn:
        emu.org.clock.offset = -600  # created ten minutes ago: before the subscription
        emu.org.publish_any(TOPIC, {"Ink_Percentage__c": 0.1})
        emu.org.clock.offset = 0
        queue = EventQueue()
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.latest(), QUICK)
        await wait_until(lambda: live(queue))  # no event, no keepalive: live unrefused
        assert sub.resume is None and sub.live_since is not None
        assert emu.pubsub is not None
        emu.pubsub.faults.stall()  # the next stream hangs until the outage ends
        emu.pubsub.faults.reset_streams()
        await wait_until(lambda: sub.streams == 2)
        missed = [emu.org.publish_any(TOPIC, {"Ink_Percentage__c": i}).replay_id for i in (2, 3)]
        emu.pubsub.faults.clear()
        got = await queue.take(2)
        assert [e.replay_value for e in got] == missed  # not the old one, not lost ones


async def test_a_stored_live_since_start_drops_older_events_and_keeps_newer_ones() -> None:
    async with pubsub_emulator(pubsub=SILENT) as emu, connected(emu) as conn:
        emu.org.clock.offset = -600
        emu.org.publish_any(TOPIC, {"Ink_Percentage__c": 0.1})  # before the mark
        emu.org.clock.offset = 0
        since = emu.org.clock.now() - 1
        after = emu.org.publish_any(TOPIC, {"Ink_Percentage__c": 0.2}).replay_id
        queue = EventQueue()
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.live_since(since), QUICK)
        (event,) = await queue.take(1)
        assert event.replay_value == after
        assert sub.live_since is None  # it has a replay id to resume from now


async def test_a_refresh_that_cannot_reach_the_login_is_tried_again() -> None:
    async with pubsub_emulator(pubsub=PubSubSettings(keepalive=0.2)) as emu:
        assert emu.pubsub is not None
        attempts: list[str] = []

        async def refresh() -> Credentials:
            attempts.append("refresh")
            if len(attempts) == 1:
                raise ConnectionError("login out of reach")
            return await login(emu.url)

        tokens = CallbackTokens(await login(emu.url), refresh=refresh)
        async with PubSubConnection(tokens, emu.pubsub.address, tls=False) as conn:
            queue = EventQueue()
            sub = conn.subscribe(TOPIC, queue, ReplayFrom.latest(), QUICK)
            await wait_until(lambda: live(queue))
            emu.revoke_tokens()  # the stream ends with service.auth.error
            await wait_until(lambda: len(attempts) == 2, what="a second refresh")
            await wait_until(lambda: sub.status is ChannelStatus.LIVE)
            value = emu.org.publish_any(TOPIC, {"Ink_Percentage__c": 0.5}).replay_id
            (event,) = await queue.take(1)
            assert event.replay_value == value
        texts = [n.error for n in queue.notices if isinstance(n, ChannelChange)]
        assert any("new token not fetched (login out of reach)" in t for t in texts)
