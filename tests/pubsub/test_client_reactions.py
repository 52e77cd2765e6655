"""Our client's reaction to each error the emulator can produce (table-driven), the
watchdog, reconnects without loss or duplicates, token refresh, one stream per topic."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from sfmonitor.emulator import Emulator
from sfmonitor.emulator.pubsub_config import PubSubSettings
from sfmonitor.pubsub import EventQueue, PubSubConnection, ReplayFrom, SubscribeSettings
from sfmonitor.streaming import ChannelChange, ChannelStatus, GapNotice
from tests.helpers.waiting import wait_until
from tests.pubsub.helpers import connected, pubsub_emulator

pytestmark = pytest.mark.asyncio
TOPIC = "/event/Low_Ink__e"
FAST_SERVER = PubSubSettings(keepalive=0.2, credit_timeout=0.6)
QUICK = SubscribeSettings(backoff_base=0.02, backoff_cap=0.1)


def publish(emu: Emulator, n: int) -> list[int]:
    return [emu.org.publish_any(TOPIC, {"Ink_Percentage__c": i}).replay_id for i in range(n)]


def statuses(queue: EventQueue) -> list[ChannelChange]:
    return [n for n in queue.notices if isinstance(n, ChannelChange)]


@dataclass
class StopCase:
    name: str
    arrange: Any  # (emulator) -> None, before subscribing
    topic: str
    words: str  # Salesforce's words that must reach the user


STOP_CASES = [
    StopCase("topic not found", lambda emu: None, "/event/No_Such__e", "was not found"),
    StopCase(
        "delivery allocation exhausted",
        lambda emu: emu.exhaust_allocation(),
        TOPIC,
        "You have exceeded the event delivery limit for your org.",
    ),
    StopCase("PushTopic over Pub/Sub", lambda emu: None, "/topic/AccountUpdates", "not found"),
]


@pytest.mark.parametrize("case", STOP_CASES, ids=lambda c: c.name)
async def test_errors_that_stop_the_topic_with_the_servers_words(case: StopCase) -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn:
        case.arrange(emu)
        queue = EventQueue()
        sub = conn.subscribe(case.topic, queue, settings=QUICK)
        await asyncio.wait_for(sub.wait(), 10)
        assert sub.status is ChannelStatus.ERROR
        assert case.words in sub.error and "rpcId: " in sub.error
        assert conn.streams_opened == 1  # no retry loop against a refusal
        assert statuses(queue)[-1].error == sub.error


@pytest.mark.parametrize(
    ("policy", "expect_preset", "status"),
    [
        ("replay_all", "EARLIEST", ChannelStatus.LIVE),
        ("new_only", "LATEST", ChannelStatus.LIVE),
        ("fail", None, ChannelStatus.ERROR),
    ],
)
async def test_stale_replay_id_gives_a_gap_notice_and_follows_the_policy(
    policy: str, expect_preset: str | None, status: ChannelStatus
) -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn:
        ids = publish(emu, 3)
        emu.org.clock.advance(73 * 3600)  # all three purged: resuming after the first is a gap
        kept = publish(emu, 2)
        queue = EventQueue()
        settings = SubscribeSettings(stale_replay=policy, backoff_base=0.02)
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.custom(ids[0]), settings)
        gap = await wait_until(lambda: [n for n in queue.notices if isinstance(n, GapNotice)])
        assert gap[0].stored_replay_id == ids[0] and gap[0].action == policy
        assert "replayid.corrupted" in gap[0].server_text and "rpcId:" in gap[0].server_text
        if expect_preset == "EARLIEST":
            assert [e.replay_value for e in await queue.take(2)] == kept
        if expect_preset == "LATEST":
            await wait_until(lambda: emu.pubsub and emu.pubsub.streams.get(TOPIC))
            later = publish(emu, 1)
            assert [(await queue.get()).replay_value] == later
        await wait_until(lambda: sub.status is status)


async def test_auth_error_refreshes_the_token_and_resumes_without_loss() -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn:
        queue = EventQueue()
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.earliest(), QUICK)
        first = publish(emu, 3)
        assert [e.replay_value for e in await queue.take(3)] == first
        channel = conn._channel
        emu.revoke_tokens()  # the open stream ends with service.auth.error at its next wake
        second = publish(emu, 3)
        assert [e.replay_value for e in await queue.take(3)] == second
        assert conn.tokens.refreshes == 1  # type: ignore[attr-defined]
        assert conn._channel is channel  # the new token went on new calls, same channel
        assert sub.streams == 2 and sub.status is ChannelStatus.LIVE


async def test_auth_refused_again_and_again_stops_after_the_limit() -> None:
    async with pubsub_emulator() as emu:
        emu.org.config.pubsub.check_instance_url = True
        async with connected(emu) as conn:

            async def refused() -> Any:
                emu.revoke_tokens()  # a refresh that yields a token the server refuses
                return conn.tokens.current()

            conn.tokens._refresh = refused  # type: ignore[attr-defined]
            emu.revoke_tokens()
            sub = conn.subscribe(
                TOPIC, EventQueue(), settings=SubscribeSettings(max_auth_refreshes=2)
            )
            await asyncio.wait_for(sub.wait(), 10)
            assert sub.status is ChannelStatus.ERROR and "auth.error" in sub.error
            assert sub.streams == 3
            token = conn.tokens.current().access_token
            shown = [sub.error, repr(sub), repr(conn.tokens.current())]
            shown += [str(n) for n in sub.listener.notices]  # type: ignore[attr-defined]
            assert not any(token in text for text in shown)  # never in what people see


@pytest.mark.parametrize("fault", ["pubsub_unavailable", "pubsub_reset"])
async def test_transient_failures_back_off_and_resume_from_the_stored_id(fault: str) -> None:
    async with pubsub_emulator(pubsub=FAST_SERVER) as emu, connected(emu) as conn:
        assert emu.pubsub is not None
        queue = EventQueue()
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.earliest(), QUICK)
        before = publish(emu, 5)
        assert [e.replay_value for e in await queue.take(5)] == before
        if fault == "pubsub_unavailable":
            emu.pubsub.faults.apply(fault, {"count": 3})
            emu.pubsub.faults.reset_streams()  # the open stream drops; 3 attempts refused
        else:
            await wait_until(lambda: emu.pubsub.faults.reset_streams())
        during = publish(emu, 5)
        assert [e.replay_value for e in await queue.take(5)] == during  # no loss, no repeat
        retries = [n for n in statuses(queue) if "resubscribing in" in n.error]
        assert retries and sub.status is ChannelStatus.LIVE
        assert sub.streams == (5 if fault == "pubsub_unavailable" else 2)


async def test_watchdog_tears_down_a_silent_stream_and_resumes_with_no_loss() -> None:
    async with pubsub_emulator(pubsub=FAST_SERVER) as emu, connected(emu) as conn:
        assert emu.pubsub is not None
        queue = EventQueue()
        settings = SubscribeSettings(idle_timeout=0.8, backoff_base=0.02, backoff_cap=0.05)
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.earliest(), settings)
        first = publish(emu, 2)
        assert [e.replay_value for e in await queue.take(2)] == first
        emu.pubsub.faults.stall(seconds=1.5)  # silence: no events, no keepalives
        during = publish(emu, 3)
        await wait_until(lambda: any("no message for" in n.error for n in statuses(queue)))
        assert [e.replay_value for e in await queue.take(3)] == during
        assert sub.streams >= 2
        assert max(len(v) for v in emu.pubsub.streams.values()) <= 1


async def test_keepalive_moves_the_resume_point_without_events() -> None:
    async with pubsub_emulator(pubsub=FAST_SERVER) as emu, connected(emu) as conn:
        ids = publish(emu, 4)
        queue = EventQueue()
        sub = conn.subscribe(TOPIC, queue, ReplayFrom.latest(), QUICK)
        positions = await wait_until(lambda: queue.positions)
        assert positions[0] == (TOPIC, ids[-1].to_bytes(8, "big"))
        assert sub.resume == ids[-1].to_bytes(8, "big")


async def test_one_stream_per_topic() -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn:
        conn.subscribe(TOPIC, EventQueue())
        with pytest.raises(ValueError, match="already subscribed"):
            conn.subscribe(TOPIC, EventQueue())
        await wait_until(lambda: emu.pubsub and emu.pubsub.streams.get(TOPIC))
        assert emu.pubsub is not None and len(emu.pubsub.streams[TOPIC]) == 1


async def test_credit_is_asked_for_before_it_runs_out() -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn:
        assert emu.pubsub is not None
        await emu.generate(TOPIC, 450, 200)
        queue = EventQueue()
        conn.subscribe(TOPIC, queue, ReplayFrom.earliest())
        await queue.take(450)
        stream = next(iter(emu.pubsub.streams[TOPIC]))
        assert stream.sent == 450 and 0 < stream.credit <= 100


async def test_close_stops_every_subscription_and_the_channel() -> None:
    async with pubsub_emulator(pubsub=FAST_SERVER) as emu:
        conn = PubSubConnection((await _tokens(emu)), emu.pubsub.address, tls=False)  # type: ignore[union-attr]
        subs = [conn.subscribe(t, EventQueue()) for t in (TOPIC, "/data/ChangeEvents")]
        await wait_until(lambda: all(s.status is ChannelStatus.LIVE for s in subs))
        await conn.close()
        assert all(not s.running and s.status is ChannelStatus.UNSUBSCRIBED for s in subs)
        assert conn._channel is None
        await wait_until(lambda: not any(emu.pubsub.streams.values()))  # type: ignore[union-attr]


async def _tokens(emu: Emulator) -> Any:
    from tests.pubsub.helpers import tokens_for

    return await tokens_for(emu)
