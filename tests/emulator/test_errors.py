"""Session expiry, authentication, limits and busy errors, with Salesforce's exact strings and
advice (reference §4)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sfmonitor.emulator import Emulator
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio

BUSY = "503::Server is too busy.  Please try your request again later."


async def test_session_expires_without_connect(make_emulator: Any) -> None:
    emu = await make_emulator(max_interval=0.3)
    async with BayeuxProbe(emu.url) as p:
        await p.start("/u/notifications")
        await asyncio.sleep(0.5)
        body = await p.connect()
        assert body == [
            {
                "channel": "/meta/connect",
                "id": body[0]["id"],
                "advice": {"reconnect": "handshake", "interval": 0},
                "error": "403::Unknown client",
                "successful": False,
            }
        ]
        assert "clientId" not in body[0]
        reply = await p.subscribe("/u/notifications")
        assert reply["error"] == "403::Unknown client"
        assert reply["subscription"] == "/u/notifications"


async def test_held_connect_keeps_session_alive(make_emulator: Any) -> None:
    emu = await make_emulator(max_interval=0.3, connect_timeout=0.8)
    async with BayeuxProbe(emu.url) as p:
        await p.start()
        assert (await p.connect())[0]["successful"]  # held 0.8 s > max_interval
        assert (await p.connect(advice={"timeout": 0}))[0]["successful"]


async def test_expire_sessions_fault_answers_held_connect(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        held = asyncio.ensure_future(p.connect())
        await asyncio.sleep(0.2)
        assert emulator.expire_sessions() == 1
        body = await asyncio.wait_for(held, 2)
        assert body[0]["error"] == "403::Unknown client"


async def test_revoked_token_on_connect(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        emulator.revoke_tokens()
        body = await p.connect()
        assert body == [
            {
                "channel": "/meta/connect",
                "id": body[0]["id"],
                "clientId": p.client_id,
                "advice": {"reconnect": "none", "interval": 0},
                "error": "401::Authentication invalid",
                "successful": False,
            }
        ]


async def test_handshake_denied_shapes(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        hs = {
            "channel": "/meta/handshake",
            "id": "1",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
        }
        _, body = await p.post([hs], auth=None)
        assert body == [
            {
                "channel": "/meta/handshake",
                "id": "1",
                "ext": {
                    "sfdc": {"failureReason": "401::Request requires authentication"},
                    "replay": True,
                    "payload.format": True,
                },
                "advice": {"reconnect": "none", "interval": 0},
                "error": "403::Handshake denied",
                "successful": False,
            }
        ]
        p.token = "00Dbogus!token"
        _, body = await p.post([hs])
        assert body[0]["ext"]["sfdc"]["failureReason"] == "401::Authentication invalid"
        assert body[0]["error"] == "403::Handshake denied"


async def test_user_mismatch(emulator: Emulator) -> None:
    from sfmonitor.emulator import User

    emulator.org.add_user(User("other@example.com", "pw2"))
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        await p.login(username="other@example.com", password="pw2")
        body = await p.connect()
        assert body[0]["error"] == (
            "400::Authenticated user id does not match the session's user id"
        )


async def test_concurrent_client_limit(make_emulator: Any) -> None:
    emu = await make_emulator(max_concurrent_clients=1)
    async with BayeuxProbe(emu.url) as a, BayeuxProbe(emu.url) as b:
        await a.start()
        await b.login()
        _, body = await b.post(
            [
                {
                    "channel": "/meta/handshake",
                    "id": "1",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ]
        )
        assert body[0]["error"] == "403::Handshake denied"
        assert body[0]["ext"]["sfdc"]["failureReason"] == (
            "403::Organization concurrent user limit exceeded"
        )
        limits = emu.org.limits()["DurableStreamingApiConcurrentClients"]
        assert limits == {"Max": 1, "Remaining": 0}
    emu.org.config.concurrent_limit_as_failure_reason = False
    async with BayeuxProbe(emu.url) as c:
        await c.login()
        _, body = await c.post(
            [
                {
                    "channel": "/meta/handshake",
                    "id": "1",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ]
        )
        assert body[0]["error"] == "403::Organization concurrent user limit exceeded"


async def test_daily_allocation_exhausted(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/u/notifications")
        emulator.exhaust_allocation()
        body = await p.connect()
        assert body[0]["error"] == "403::Organization total events daily limit exceeded"
        reply = await p.subscribe("/event/Low_Ink__e")
        assert reply["error"] == "403::Organization total events daily limit exceeded"


async def test_daily_allocation_counts_deliveries(make_emulator: Any) -> None:
    emu = await make_emulator(daily_generic_events=3)
    async with BayeuxProbe(emu.url) as p:
        await p.start("/u/notifications")
        for i in range(3):
            emu.org.publish_generic("/u/notifications", str(i))
        assert len((await p.connect())[:-1]) == 3
        limits = emu.org.limits()["DailyDurableGenericStreamingApiEvents"]
        assert limits == {"Max": 3, "Remaining": 0}
        body = await p.connect()
        assert body[0]["error"] == "403::Organization total events daily limit exceeded"
        emu.org.clock.advance(86400)  # a new day restores the allocation
        assert (await p.connect(advice={"timeout": 0}))[0]["successful"]


async def test_busy_failure_reason(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.login()
        emulator.faults.busy = 2
        _, body = await p.post(
            [
                {
                    "channel": "/meta/handshake",
                    "id": "1",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ]
        )
        assert body[0]["error"] == "403::Handshake denied"
        assert body[0]["ext"]["sfdc"]["failureReason"] == BUSY
        _, body = await p.post(
            [
                {
                    "channel": "/meta/handshake",
                    "id": "2",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ]
        )
        assert body[0]["ext"]["sfdc"]["failureReason"] == BUSY
        await p.handshake()
        emulator.faults.busy = 1
        body = await p.connect()
        assert body[0]["error"] == "401::Authentication invalid"
        assert body[0]["ext"] == {"sfdc": {"failureReason": BUSY}}
        assert body[0]["advice"] == {"reconnect": "none", "interval": 0}
        assert (await p.connect())[0]["successful"]


async def test_subscribe_errors(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        missing = "400::The channel you requested to subscribe to doesn't exist {%s}"
        cases = {
            "/topic/NoSuchTopic": missing % "/topic/NoSuchTopic",
            "/event/Missing__e": missing % "/event/Missing__e",
            "/data/WidgetChangeEvent": missing % "/data/WidgetChangeEvent",
            "no-slash": "400::Channel subscriptions must start with a leading '/'",
            "/meta/connect": "403::Restricted channel",
        }
        for channel, error in cases.items():
            reply = await p.subscribe(channel)
            assert reply["successful"] is False
            assert reply["error"] == error
            assert reply["subscription"] == channel
        _, body = await p.post([{"channel": "/meta/subscribe", "clientId": p.client_id, "id": "n"}])
        assert body[0]["error"] == "400::Channel name not specified"


async def test_missing_channel_error_is_configurable(make_emulator: Any) -> None:
    emu = await make_emulator(channel_missing_error="403:denied_by_security_policy:create_denied")
    async with BayeuxProbe(emu.url) as p:
        await p.start()
        reply = await p.subscribe("/topic/Nope")
        assert reply["error"] == "403:denied_by_security_policy:create_denied"
