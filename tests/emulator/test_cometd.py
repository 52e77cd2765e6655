"""The CometD endpoint over real loopback HTTP: the golden exchange of reference §2.9 and
the protocol details clients depend on (§2)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from sfmonitor.emulator import Emulator
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio


async def test_golden_exchange(make_emulator: Any) -> None:
    emu = await make_emulator(connect_timeout=30.0)
    async with BayeuxProbe(emu.url) as p:
        await p.login()
        status, body = await p.post(
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "minimumVersion": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                    "ext": {"replay": True},
                    "id": "1",
                }
            ]
        )
        assert status == 200 and len(body) == 1
        hs = body[0]
        assert hs["successful"] is True and hs["id"] == "1"
        assert hs["supportedConnectionTypes"] == ["long-polling"]
        assert hs["ext"] == {"replay": True, "payload.format": True}
        assert "advice" not in hs
        cookies = {c.key: c for c in p.http.cookie_jar}
        assert "BAYEUX_BROWSER" in cookies and cookies["BAYEUX_BROWSER"]["httponly"]
        p.client_id = hs["clientId"]

        started = asyncio.get_running_loop().time()
        body = await p.connect()
        assert asyncio.get_running_loop().time() - started < 1.0  # first connect: at once
        assert body == [
            {
                "channel": "/meta/connect",
                "id": body[0]["id"],
                "clientId": p.client_id,
                "successful": True,
                "advice": {"interval": 0, "timeout": 30000, "reconnect": "retry"},
            }
        ]

        # subscribe on a second HTTP connection while the next connect is held
        held = asyncio.ensure_future(p.connect())
        await asyncio.sleep(0.2)
        assert not held.done()
        async with BayeuxProbe(emu.url) as side:
            side.token, side.client_id = p.token, p.client_id
            side.http.cookie_jar.update_cookies({c.key: c.value for c in p.http.cookie_jar})
            reply = await side.subscribe("/event/Low_Ink__e", -1)
        assert reply == {
            "channel": "/meta/subscribe",
            "id": reply["id"],
            "clientId": p.client_id,
            "subscription": "/event/Low_Ink__e",
            "successful": True,
        }
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 0.2})
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 0.1})
        body = await asyncio.wait_for(held, 5)
        assert [m["channel"] for m in body] == ["/event/Low_Ink__e"] * 2 + ["/meta/connect"]
        assert body[-1]["successful"] is True and "advice" not in body[-1]


async def test_held_connect_times_out_with_plain_reply(make_emulator: Any) -> None:
    emu = await make_emulator(connect_timeout=0.3)
    async with BayeuxProbe(emu.url) as p:
        await p.start()
        started = asyncio.get_running_loop().time()
        body = await p.connect()
        assert asyncio.get_running_loop().time() - started >= 0.25
        assert body == [
            {
                "channel": "/meta/connect",
                "id": body[0]["id"],
                "clientId": p.client_id,
                "successful": True,
            }
        ]


async def test_connect_batched_with_subscribe_is_not_held(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        sub = {
            "channel": "/meta/subscribe",
            "clientId": p.client_id,
            "subscription": "/event/Low_Ink__e",
            "id": "s1",
        }
        started = asyncio.get_running_loop().time()
        status, body = await p.post([p.connect_msg(), sub])
        assert asyncio.get_running_loop().time() - started < 1.0
        assert status == 200 and {m["channel"] for m in body} == {
            "/meta/connect",
            "/meta/subscribe",
        }


async def test_client_timeout_advice_zero_answers_at_once(make_emulator: Any) -> None:
    emu = await make_emulator(connect_timeout=30.0)
    async with BayeuxProbe(emu.url) as p:
        await p.start()
        body = await asyncio.wait_for(p.connect(advice={"timeout": 0}), 2)
        assert body[0]["successful"]


async def test_single_object_body_trailing_slash_and_auth_forms(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.login()
        for auth in ("Bearer", "OAuth", ""):
            status, body = await p.post(
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "supportedConnectionTypes": ["websocket", "long-polling"],
                    "id": "a",
                },
                auth=auth,
                path="/cometd/42.0/",
            )
            assert status == 200 and isinstance(body, list), (auth, body)
            assert body[0]["successful"] and body[0]["id"] == "a"
            assert body[0]["supportedConnectionTypes"] == ["long-polling"]


async def test_events_before_reply_and_batch_cap(make_emulator: Any) -> None:
    emu = await make_emulator(max_events_per_reply=3)
    async with BayeuxProbe(emu.url) as p:
        await p.start("/u/notifications")
        for i in range(7):
            emu.org.publish_generic("/u/notifications", f"n{i}")
        sizes = []
        payloads = []
        for _ in range(3):
            body = await p.connect()
            assert body[-1]["channel"] == "/meta/connect"
            events = body[:-1]
            sizes.append(len(events))
            payloads += [e["data"]["payload"] for e in events]
        assert sizes == [3, 3, 1]
        assert payloads == [f"n{i}" for i in range(7)]


async def test_reply_first_order_is_configurable(make_emulator: Any) -> None:
    emu = await make_emulator(events_before_connect_reply=False)
    async with BayeuxProbe(emu.url) as p:
        await p.start("/u/notifications")
        emu.org.publish_generic("/u/notifications", "x")
        body = await p.connect()
        assert [m["channel"] for m in body] == ["/meta/connect", "/u/notifications"]


async def test_unsubscribe_and_disconnect(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/u/notifications")
        status, body = await p.post(
            [
                {
                    "channel": "/meta/unsubscribe",
                    "clientId": p.client_id,
                    "subscription": "/u/notifications",
                    "id": "u",
                }
            ]
        )
        assert status == 200
        assert body == [
            {
                "channel": "/meta/unsubscribe",
                "id": "u",
                "clientId": p.client_id,
                "subscription": "/u/notifications",
                "successful": True,
            }
        ]
        emulator.org.publish_generic("/u/notifications", "after unsubscribe")
        assert (await p.connect(advice={"timeout": 0}))[:-1] == []
        _status, body = await p.post(
            [{"channel": "/meta/disconnect", "clientId": p.client_id, "id": "d"}]
        )
        assert body == [
            {"channel": "/meta/disconnect", "id": "d", "clientId": p.client_id, "successful": True}
        ]
        assert p.client_id not in emulator.org.sessions
        assert emulator.org.limits()["DurableStreamingApiConcurrentClients"]["Remaining"] == 2000


async def test_duplicate_connect_answers_older_with_http_error(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        first = asyncio.ensure_future(p.post([p.connect_msg()]))
        await asyncio.sleep(0.2)
        second = asyncio.ensure_future(p.post([p.connect_msg()]))
        status, _ = await asyncio.wait_for(first, 5)
        assert status == 500
        status, body = await asyncio.wait_for(second, 5)
        assert status == 200 and body[0]["successful"]


async def test_second_session_on_one_browser_gets_multiple_clients_advice(
    emulator: Emulator,
) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        held = asyncio.ensure_future(p.connect())
        await asyncio.sleep(0.2)
        first_client = p.client_id
        await p.handshake()  # same cookie jar: same BAYEUX_BROWSER
        await p.connect()
        body = await asyncio.wait_for(p.connect(), 1.5)
        assert body[0]["advice"] == {
            "multiple-clients": True,
            "reconnect": "retry",
            "interval": 2000,
        }
        assert first_client != p.client_id
        await asyncio.wait_for(held, 5)


async def test_bad_requests_get_bayeux_errors_not_500(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.login()
        url = f"{emulator.url}/cometd/62.0"
        headers = {"Authorization": f"Bearer {p.token}", "Content-Type": "application/json"}
        for raw in (b"{not json", b"[]", b"[1, 2]", b'"text"', b""):
            async with p.http.post(url, data=raw, headers=headers) as r:
                assert r.status == 400, raw
                body = await r.json()
                assert body[0]["successful"] is False and body[0]["error"].startswith("400::")
        status, body = await p.post([{"id": "x"}])
        assert status == 200 and body[0]["error"] == "400::Channel name not specified"
        _, body = await p.post([{"channel": "/some/where", "id": "y", "data": {}}])
        assert body[0]["successful"] is False


async def test_cookies_survive_and_are_required(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        p.http.cookie_jar.clear()
        body = await p.connect()
        assert body[0]["successful"] is False
        assert body[0]["error"] == (
            f"400::Client {p.client_id} has established a session, "
            "but no BAYEUX_BROWSER cookie present"
        )


async def test_version_in_uri(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.login()
        hs = {
            "channel": "/meta/handshake",
            "id": "1",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
        }
        status, body = await p.post([hs], path="/cometd")
        assert status == 400
        assert body[0]["error"] == (
            "400::API version in the URI is mandatory. URI format: '/cometd/68.0'"
        )
        status, body = await p.post([hs], path="/cometd/36.0")
        assert body[0]["error"] == (
            "400::Unsupported API version. Only API versions '37.0' "
            "and later are supported. URI format: '/cometd/68.0'"
        )


async def test_request_size_limit(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        msg = {
            "channel": "/meta/subscribe",
            "clientId": p.client_id,
            "id": "big",
            "subscription": "/u/x",
            "ext": {"pad": "x" * 40_000},
        }
        status, body = await p.post([msg])
        assert status == 200
        assert body[0]["error"] == "413::Maximum Request Size Exceeded"


async def test_handshake_must_be_alone(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.login()
        _status, body = await p.post(
            [
                {
                    "channel": "/meta/handshake",
                    "id": "1",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                },
                {
                    "channel": "/meta/connect",
                    "id": "2",
                    "clientId": "x",
                    "connectionType": "long-polling",
                },
            ]
        )
        assert all(m["successful"] is False for m in body)


async def test_invalid_connection_type(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        body = await p.connect(connectionType="websocket")
        assert body[0]["error"] == "400::Invalid connection type websocket"


async def test_publish_from_client_is_denied(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        status, body = await p.post(
            [{"channel": "/event/Low_Ink__e", "clientId": p.client_id, "data": {}, "id": "p"}]
        )
        assert status == 200 and body[0]["successful"] is False and body[0]["id"] == "p"


async def test_http_get_is_not_a_server_error(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{emulator.url}/cometd/62.0") as r:
        assert r.status == 405
