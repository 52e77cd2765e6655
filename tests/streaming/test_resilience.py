"""The client against the emulator's faults. In each: no event lost, none delivered twice to
the caller, and the state changes reported with the server's words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.faults import Pending
from sfmonitor.streaming import (
    ConnectionState,
    GapNotice,
    Notice,
    ReplayType,
    SimpleSalesforceStreaming,
    StateChange,
)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
CHANNELS = (
    "/topic/Foo",
    "/event/Low_Ink__e",
    "/data/AccountChangeEvent",
    "/u/news",
    "/event/LoginEventStream",
)


class Harness:
    """A client consuming events() in a task, recording events and notices."""

    def __init__(self, emulator: Emulator, client: SimpleSalesforceStreaming) -> None:
        self.emulator = emulator
        self.client = client
        self.received: list[tuple[str, int]] = []
        self.notices: list[Notice] = []
        self.published: set[tuple[str, int]] = set()
        client.add_listener(self.notices.append)
        self.task: asyncio.Task[None] | None = None

    async def consume(self) -> None:
        async for event in self.client.events():
            self.received.append((event["channel"], event["data"]["event"]["replayId"]))

    def publish(self, n: int, channels: tuple[str, ...] = CHANNELS) -> None:
        for i in range(n):
            ch = channels[i % len(channels)]
            event = self.emulator.org.publish_any(ch, {"Name": f"event {i}"})
            self.published.add((ch, event.replay_id))

    async def settle(self, timeout: float = 20) -> None:
        """Wait until every published event was received; then check loss and duplicates."""

        def all_received() -> bool:
            if self.task is not None and self.task.done():
                self.task.result()
            return set(self.received) == self.published

        try:
            await wait_until(all_received, timeout)
        except TimeoutError:
            missing = self.published - set(self.received)
            raise AssertionError(
                f"{len(missing)} events lost, e.g. {sorted(missing)[:3]}"
            ) from None
        assert len(self.received) == len(set(self.received)), "an event was delivered twice"

    def reasons(self) -> list[str]:
        return [
            n.reason
            for n in self.notices
            if isinstance(n, StateChange) and n.state is ConnectionState.RECONNECTING
        ]


@pytest_asyncio.fixture
async def harness(emulator: Emulator, credentials: dict[str, Any]) -> AsyncIterator[Harness]:
    client = SimpleSalesforceStreaming(**credentials)
    h = Harness(emulator, client)
    async with client:
        for ch in CHANNELS:
            reply = await client.subscribe(ch)
            assert reply[0]["successful"], reply
        h.task = asyncio.ensure_future(h.consume())
        yield h
        await client.ask_stop()
        await asyncio.wait_for(h.task, 5)


async def test_sessions_expired_mid_stream(harness: Harness) -> None:
    harness.publish(40)
    await asyncio.sleep(0.1)
    for _ in range(3):
        harness.emulator.expire_sessions()
        harness.publish(20)
        await asyncio.sleep(0.3)
    await harness.settle()
    assert any("403::Unknown client" in r for r in harness.reasons())
    assert harness.client.state is ConnectionState.CONNECTED


async def test_simulated_restart(harness: Harness) -> None:
    harness.publish(25)
    harness.emulator.restart()
    harness.publish(25)  # published while no session exists
    await harness.settle()
    harness.emulator.restart()
    harness.publish(10)
    await harness.settle()
    assert len(harness.reasons()) >= 2


async def test_token_revocation(harness: Harness) -> None:
    logins = harness.emulator.org.token_requests
    harness.publish(10)
    await harness.settle()
    harness.emulator.revoke_tokens()
    harness.publish(10)
    await harness.settle()
    assert harness.emulator.org.token_requests == logins + 1  # one new login, no storm
    assert any("401::Authentication invalid" in r for r in harness.reasons())


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Pending("reset", 2), "connection lost in the middle of the response"),
        (Pending("http_status", 2, status=503), "HTTP 503"),
        (Pending("http_status", 1, status=502), "HTTP 502"),
        (Pending("malformed", 1, malformed="html"), "not JSON"),
        (Pending("malformed", 1, malformed="truncated"), "connection lost"),
        (Pending("malformed", 1, malformed="wrong_types"), "connect reply missing"),
        (Pending("malformed", 1, malformed="empty"), "not JSON"),
    ],
)
async def test_transport_faults(harness: Harness, fault: Pending, words: str) -> None:
    harness.publish(20)
    harness.emulator.faults.add(fault)
    harness.publish(20)
    await asyncio.sleep(0.3)
    harness.publish(20)
    await harness.settle(timeout=60)
    assert any(words in r for r in harness.reasons()), harness.reasons()


async def test_server_busy_failure_reason(harness: Harness) -> None:
    harness.publish(10)
    await harness.settle()
    harness.emulator.faults.busy = 3  # the held connect, then the handshakes, are refused
    harness.publish(10)
    await harness.settle(timeout=60)
    busy = [r for r in harness.reasons() if "503::Server is too busy" in r]
    assert busy, harness.reasons()
    # the 401 error that comes with this failureReason must not cost a new login
    assert harness.emulator.org.token_requests == 1


async def test_a_connect_reply_of_40000_events(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    emulator.org.config.max_events_per_reply = 50_000
    await emulator.generate("/event/Bulk__e", 40_000, 512)
    ids: list[int] = []
    async with SimpleSalesforceStreaming(**credentials) as client:
        await client.subscribe("/event/Bulk__e", replay=ReplayType.ALL_EVENTS)
        async for event in client.events():
            ids.append(event["data"]["event"]["replayId"])
            if len(ids) == 40_000:
                break
        session = emulator.org.sessions[client.client_id]
        assert session.largest_reply == 40_000
    expected = [e.replay_id for e in emulator.org.channels["/event/Bulk__e"].events]
    assert ids == expected


async def test_stale_replay_id_reports_a_gap_and_replays_all(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    old = [emulator.org.publish_any("/event/Low_Ink__e", {"n": i}).replay_id for i in range(3)]
    emulator.org.clock.advance(73 * 3600)  # past the 72 h retention
    kept = [emulator.org.publish_any("/event/Low_Ink__e", {"n": i}).replay_id for i in range(3)]

    class Stored(SimpleSalesforceStreaming):
        async def get_last_replay_id(self, channel: str) -> int:
            return old[0]

    notices: list[Notice] = []
    received: list[int] = []
    async with Stored(**credentials, on_notice=notices.append) as client:
        reply = await client.subscribe("/event/Low_Ink__e")
        assert reply[0]["successful"]
        async for event in client.events():
            received.append(event["data"]["event"]["replayId"])
            if len(received) == len(kept):
                break
    assert received == kept
    gaps = [n for n in notices if isinstance(n, GapNotice)]
    assert len(gaps) == 1
    assert gaps[0].channel == "/event/Low_Ink__e" and gaps[0].stored_replay_id == old[0]
    assert gaps[0].server_text.startswith(f"400::The replayId {{{old[0]}}} you provided was")
    assert gaps[0].action == "replay_all"


async def test_stale_replay_policy_fail_keeps_the_error(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    class Stored(SimpleSalesforceStreaming):
        async def get_last_replay_id(self, channel: str) -> int:
            return 10**9

    async with Stored(**credentials, stale_replay="fail") as client:
        reply = await client.subscribe("/event/Low_Ink__e")
        assert reply[0]["successful"] is False
        assert reply[0]["error"].startswith("400::The replayId {1000000000}")


async def test_subscribe_and_unsubscribe_while_iterating(harness: Harness) -> None:
    harness.publish(5)
    await harness.settle()
    # subscribe from another task while the consumer iterates, before the reply is awaited
    task = asyncio.ensure_future(harness.client.subscribe("/event/Order_Placed__e"))
    await task
    harness.publish(6, ("/event/Order_Placed__e", "/u/news"))
    await harness.settle()
    await harness.client.unsubscribe("/u/news")
    before = len(harness.received)
    harness.emulator.org.publish_generic("/u/news", "after unsubscribe")
    harness.publish(2, ("/event/Order_Placed__e",))
    await harness.settle()
    assert len(harness.received) == before + 2
    assert "/u/news" not in harness.client.subscriptions


async def test_a_login_storm_is_bounded(credentials: dict[str, Any]) -> None:
    """Tokens revoked as soon as they are issued would make a naive client log in without
    end. Backoff between failed sessions and the login guard keep the logins few."""
    async with Emulator(EmulatorConfig(connect_timeout=1.0)) as emu:

        async def revoke_forever() -> None:
            while True:
                await asyncio.sleep(0.05)
                emu.revoke_tokens()

        notices: list[Notice] = []
        client = SimpleSalesforceStreaming(
            **{**credentials, "login_url": emu.url}, on_notice=notices.append
        )
        await client.start()
        revoker = asyncio.ensure_future(revoke_forever())
        await asyncio.sleep(8.0)
        revoker.cancel()
        assert 2 <= emu.org.token_requests <= 10, [
            (n.state.value, n.reason, n.delay) for n in notices if isinstance(n, StateChange)
        ]
        # past the limit, the guard says why it waits instead of logging in again
        if emu.org.token_requests == 10:
            assert any(
                isinstance(n, StateChange) and "repeated logins" in n.reason for n in notices
            )
        await client.stop()


async def test_a_reply_over_the_size_cap_is_reported_not_read(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    notices: list[Notice] = []
    await emulator.generate("/event/Low_Ink__e", 2000, payload_bytes=512)
    client = SimpleSalesforceStreaming(
        **credentials, max_response_bytes=64 << 10, on_notice=notices.append
    )
    async with client:
        await client.subscribe("/event/Low_Ink__e", ReplayType.ALL_EVENTS)
        await wait_until(
            lambda: any(
                isinstance(n, StateChange) and "exceeds the limit of 65,536" in n.reason
                for n in notices
            ),
            10,
            "the overflow report",
        )
