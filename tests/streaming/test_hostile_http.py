"""The client against a hostile server (tests/helpers/hostile.py), HTTP level: no redirect
followed with credentials, no token to an insecure or foreign instance_url, decoded sizes
and total times bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sfmonitor.streaming import (
    AuthenticationError,
    ConnectionFailedError,
    InsecureEndpointError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SimpleSalesforceStreaming,
    TransportError,
)
from tests.helpers.hostile import (
    HostileServer,
    gzip_bomb,
    hold,
    redirect,
    token_reply,
    trickle,
)
from tests.helpers.tls import make_tls

pytestmark = pytest.mark.asyncio
PASSWORD = "hostile-test-password-4711"
SECRET = "hostile-test-client-secret-0815"
TOKEN_PATH = "/services/oauth2/token"


def client_for(url: str, **options: Any) -> SimpleSalesforceStreaming:
    return SimpleSalesforceStreaming(
        "ada@example.com", PASSWORD, "client-id", SECRET, login_url=url, **options
    )


def carried_a_secret(server: HostileServer) -> list[str]:
    """Paths of requests to ``server`` that carried the password, secret or a token."""
    return [
        s.path
        for s in server.seen
        if PASSWORD.encode() in s.body or SECRET.encode() in s.body or "Authorization" in s.headers
    ]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_login_redirected_to_another_origin_is_not_followed(status: int) -> None:
    async with HostileServer() as login, HostileServer() as thief:
        login.on(TOKEN_PATH, redirect(status, f"{thief.url}{TOKEN_PATH}"))
        client = client_for(login.url)
        with pytest.raises(RedirectRefusedError, match=thief.url.replace(".", r"\.")):
            await client.start()
        await client.stop()
        assert thief.seen == []
        assert len(login.requests_to(TOKEN_PATH)) == 1  # the one configured, once


async def test_an_https_login_redirected_to_http_is_not_followed(tmp_path: Path) -> None:
    ca, context = make_tls(tmp_path)
    async with HostileServer(context) as login, HostileServer() as plain:
        # same host, same port number even would not matter: the scheme drops to http
        login.on(TOKEN_PATH, redirect(308, f"{plain.url}{TOKEN_PATH}"))
        client = client_for(login.url, ssl=str(ca))
        with pytest.raises(RedirectRefusedError, match=r"HTTP 308\) to http://127\.0\.0\.1"):
            await client.start()
        await client.stop()
        assert plain.seen == []


async def test_cometd_and_rest_redirects_are_not_followed() -> None:
    async with HostileServer() as org, HostileServer() as thief:
        org.on("/cometd/68.0", redirect(307, f"{thief.url}/cometd/68.0"))
        client = client_for(org.url)
        with pytest.raises(RedirectRefusedError, match="CometD endpoint"):
            await client.start()
        await client.stop()
        org.on("/services/data/", redirect(302, f"{thief.url}/services/data/"))
        client = client_for(org.url)
        with pytest.raises(RedirectRefusedError, match="API versions"):
            await client.start()
        await client.stop()
        assert thief.seen == []


async def test_https_login_never_hands_the_token_to_plain_http(tmp_path: Path) -> None:
    ca, context = make_tls(tmp_path)
    async with HostileServer(context) as login, HostileServer() as plain:
        login.instance_url = plain.url  # http://127.0.0.1:... from an https login
        client = client_for(login.url, ssl=str(ca))
        with pytest.raises(InsecureEndpointError, match="plain-http instance_url"):
            await client.start()
        await client.stop()
        assert plain.seen == []


async def test_an_instance_url_on_a_foreign_host_is_refused_unless_trusted(
    tmp_path: Path,
) -> None:
    ca, context = make_tls(tmp_path)
    async with HostileServer(context) as login:
        # the certificate covers both names; only 127.0.0.1 is the login host
        login.instance_url = login.url.replace("127.0.0.1", "localhost")
        client = client_for(login.url, ssl=str(ca))
        with pytest.raises(InsecureEndpointError, match="not a Salesforce host"):
            await client.start()
        await client.stop()
        assert login.requests_to("/services/data/") == []
        assert not any(s.path.startswith("/cometd") for s in login.seen)

        trusted = client_for(login.url, ssl=str(ca), trusted_hosts=["localhost"])
        await trusted.start()  # the same server under a name the user trusts
        assert trusted.instance_url == login.instance_url
        await trusted.stop()


async def test_a_loopback_http_login_may_only_lead_to_loopback() -> None:
    async with HostileServer() as login:
        login.instance_url = "http://sfmonitor-test.invalid"
        client = client_for(login.url)
        with pytest.raises(InsecureEndpointError, match="not on loopback"):
            await client.start()
        await client.stop()


async def test_a_plain_http_login_url_off_loopback_is_refused_before_sending() -> None:
    client = client_for("http://sfmonitor-test.invalid")
    with pytest.raises(InsecureEndpointError, match="plain http"):
        await client.start()
    await client.stop()


@pytest.mark.parametrize("where", ["token", "versions", "cometd"])
async def test_a_gzip_bomb_stops_at_the_limit_of_its_decoded_size(where: str) -> None:
    async with HostileServer() as org:
        path = {"token": TOKEN_PATH, "versions": "/services/data/", "cometd": "/cometd/68.0"}
        org.on(path[where], gzip_bomb(256 << 20))  # 256 KB on the wire
        client = client_for(org.url, max_response_bytes=16 << 20)
        with pytest.raises(ResponseTooLargeError, match="once decompressed"):
            await client.start()
        await client.stop()


async def test_a_deflate_bomb_also_stops() -> None:
    async with HostileServer() as org:
        org.on(TOKEN_PATH, gzip_bomb(64 << 20, encoding="deflate"))
        client = client_for(org.url)
        with pytest.raises(ResponseTooLargeError, match="1,048,576"):
            await client.start()
        await client.stop()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
async def test_an_honest_compressed_token_reply_is_decoded(encoding: str) -> None:
    """The decoding is ours now: an honest compressed reply still works, in the three forms
    servers use (gzip; deflate with a zlib header, as the standard says; raw deflate)."""
    import zlib

    import orjson
    from aiohttp import web

    async with HostileServer() as org:
        data = orjson.dumps(
            {"access_token": "00Dx!tok123456", "instance_url": org.url, "token_type": "Bearer"}
        )
        wbits = {"gzip": 31, "deflate": 15, "raw deflate": -15}[encoding]
        packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
        body = packer.compress(data) + packer.flush()
        header = encoding.split()[-1]

        async def gzipped(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, headers={"Content-Encoding": header})

        org.on(TOKEN_PATH, gzipped)
        client = client_for(org.url)
        assert await client.fetch_token() == ("00Dx!tok123456", org.url)


@pytest.mark.parametrize("path", [TOKEN_PATH, "/services/data/", "/cometd/68.0"])
async def test_a_reply_trickled_a_byte_at_a_time_times_out(path: str) -> None:
    async with HostileServer() as org:
        org.on(path, trickle(None, delay=0.05))  # never ends, never pauses long
        client = client_for(org.url, request_timeout=1.0)
        with pytest.raises(TransportError, match="timed out"):
            await asyncio.wait_for(client.start(), 30)  # a bound: the test must not hang
        await client.stop()


async def test_ask_stop_ends_a_login_that_hangs() -> None:
    release = asyncio.Event()
    async with HostileServer() as org:
        org.on(TOKEN_PATH, hold(release))
        client = client_for(org.url)
        starting = asyncio.ensure_future(client.start())
        while not org.requests_to(TOKEN_PATH):
            await asyncio.sleep(0.01)
        await client.ask_stop()
        with pytest.raises(ConnectionFailedError, match="stopped while connecting"):
            await asyncio.wait_for(starting, 10)
        await client.stop()
        release.set()
        # and a client stopped before it started does not connect at all
        early = client_for(org.url)
        await early.ask_stop()
        with pytest.raises(ConnectionFailedError, match="before connecting"):
            await early.start()
        await early.stop()
        assert len(org.requests_to(TOKEN_PATH)) == 1


async def test_no_secret_reaches_a_server_it_was_not_configured_for(tmp_path: Path) -> None:
    """The redirect, instance_url and bomb attacks together: the thief sees nothing."""
    async with HostileServer() as login, HostileServer() as thief:
        for attack in (
            redirect(307, f"{thief.url}{TOKEN_PATH}"),
            token_reply(thief.url.replace("127.0.0.1", "localhost") + ".evil"),
            token_reply("https://thief.example"),
        ):
            login.on(TOKEN_PATH, attack)
            client = client_for(login.url)
            with pytest.raises((TransportError, AuthenticationError)):
                await client.start()
            await client.stop()
        assert carried_a_secret(thief) == []
