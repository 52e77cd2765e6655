"""Every fault of the emulator, driven in-process and through the /__emulator/ control API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from sfmonitor.emulator import Emulator
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio


async def control(emu: Emulator, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.url}/__emulator/{path}", json=body) as r,
    ):
        return r.status, await r.json(content_type=None)


async def test_http_error_fault(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        assert (
            await control(emulator, "faults", {"fault": "http_error", "status": 503, "count": 2})
        )[0] == 200
        for _ in range(2):
            status, body = await p.post([p.connect_msg()])
            assert status == 503 and "<html>" in body
        assert (await p.connect(advice={"timeout": 0}))[0]["successful"]


async def test_reset_fault_cuts_the_response(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/u/notifications")
        for i in range(20):
            emulator.org.publish_generic("/u/notifications", f"event {i}")
        await control(emulator, "faults", {"fault": "reset"})
        with pytest.raises(aiohttp.ClientError):
            await p.post([p.connect_msg()])
        assert emulator.faults.fired["reset"] == 1


async def test_slow_fault(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        await control(emulator, "faults", {"fault": "slow", "delay": 0.4})
        started = time.monotonic()
        await p.connect(advice={"timeout": 0})
        assert time.monotonic() - started >= 0.35


@pytest.mark.parametrize("kind", ["truncated", "html", "not_json", "wrong_types", "empty"])
async def test_malformed_fault(emulator: Emulator, kind: str) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        await control(emulator, "faults", {"fault": "malformed", "kind": kind})
        try:
            _status, body = await p.post([p.connect_msg(advice={"timeout": 0})])
        except aiohttp.ClientError:
            assert kind == "truncated"
        else:
            assert kind != "truncated"
            assert not (isinstance(body, list) and body and body[0].get("successful") is True)
        assert (await p.connect(advice={"timeout": 0}))[0]["successful"]


async def test_restart_drops_connections_and_sessions(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        held = asyncio.ensure_future(p.post([p.connect_msg()]))
        await asyncio.sleep(0.2)
        assert (await control(emulator, "faults", {"fault": "restart"}))[1] == {"dropped": 1}
        with pytest.raises(aiohttp.ClientError):
            await asyncio.wait_for(held, 3)
        body = await p.connect()
        assert body[0]["error"] == "403::Unknown client"


async def test_revoke_and_expire_through_control_api(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        assert (await control(emulator, "faults", {"fault": "expire_sessions"}))[1] == {
            "expired": 1
        }
        assert (await p.connect())[0]["error"] == "403::Unknown client"
        await p.handshake()
        await control(emulator, "faults", {"fault": "revoke_tokens"})
        assert (await p.connect())[0]["error"] == "401::Authentication invalid"


async def test_limits_and_batch_cap_through_control_api(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/u/notifications")
        await control(emulator, "faults", {"fault": "max_batch", "max": 2})
        for i in range(5):
            emulator.org.publish_generic("/u/notifications", str(i))
        assert len((await p.connect())[:-1]) == 2
        await control(emulator, "faults", {"fault": "concurrent_limit", "max": 1})
        async with BayeuxProbe(emulator.url) as other:
            await other.login()
            _, body = await other.post(
                [
                    {
                        "channel": "/meta/handshake",
                        "id": "1",
                        "version": "1.0",
                        "supportedConnectionTypes": ["long-polling"],
                    }
                ]
            )
            assert body[0]["successful"] is False
        await control(emulator, "faults", {"fault": "busy", "count": 1})
        assert emulator.faults.busy == 1


async def test_clock_config_state_and_bad_control_input(emulator: Emulator) -> None:
    before = emulator.org.clock.now_ms()
    status, body = await control(emulator, "clock", {"advance": 3600})
    assert status == 200 and body["now_ms"] - before >= 3_600_000
    status, body = await control(emulator, "config", {"connect_timeout": 5})
    assert status == 200 and emulator.org.config.connect_timeout == 5
    assert (await control(emulator, "config", {"users": []}))[0] == 400
    assert (await control(emulator, "config", {"connect_timeout": "x"}))[0] == 400
    assert (await control(emulator, "faults", {"fault": "nope"}))[0] == 400
    assert (await control(emulator, "faults", {"fault": "http_error", "count": 0}))[0] == 400
    assert (await control(emulator, "faults", {"fault": "malformed", "kind": "x"}))[0] == 400
    assert (await control(emulator, "publish", {"channel": "/bad"}))[0] == 400
    await control(emulator, "faults", {"fault": "slow", "delay": 1, "count": 3})
    async with aiohttp.ClientSession() as http, http.get(f"{emulator.url}/__emulator/state") as r:
        state = await r.json()
    assert state["faults"]["pending"][0]["kind"] == "slow"
    assert (await control(emulator, "reset", {}))[0] == 200
    assert emulator.faults.pending == []


async def test_oauth_scope_faults(emulator: Emulator) -> None:
    await control(emulator, "faults", {"fault": "http_error", "status": 500, "scope": "oauth"})
    async with BayeuxProbe(emulator.url) as p:
        async with p.http.post(f"{emulator.url}/services/oauth2/token", data={}) as r:
            assert r.status == 500 and r.content_type == "text/html"
        await p.login()


async def test_generate_load(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        for channel in (
            "/topic/Load",
            "/u/load",
            "/event/Load__e",
            "/data/AccountChangeEvent",
            "/event/LoginEventStream",
        ):
            status, body = await control(
                emulator, "generate", {"channel": channel, "count": 30, "payload_bytes": 512}
            )
            assert status == 200 and body == {"published": 30}, channel
            reply = await p.subscribe(channel, -2)
            assert reply["successful"], reply
            events = await p.events(30)
            assert len(events) == 30 and {e["channel"] for e in events} == {channel}
            sizes = [len(emulator.org.channels[channel].events[i].body) for i in range(30)]
            assert all(480 <= s <= 560 for s in sizes), (channel, sizes[:3])
        status, body = await control(emulator, "generate", {"channel": "/topic/X?A=1", "count": 1})
        assert status == 400
