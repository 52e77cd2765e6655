"""A hostile test server: an aiohttp app on 127.0.0.1 (port 0) that looks enough like
Salesforce for the client to log in and poll, and misbehaves on demand.

    async with HostileServer() as evil:                    # a token endpoint + fake CometD
        evil.on("/services/oauth2/token", redirect(307, other.url + "/steal"))
        evil.on("/cometd/42.0", gzip_bomb(1 << 30))
        evil.bayeux.push([event("/topic/Foo", 2**63)])   # the next connect reply

Each behaviour is a small handler factory: ``json_reply``, ``token_reply``, ``redirect``,
``gzip_bomb``, ``trickle``, ``hold``; ``FakeBayeux`` scripts connect replies (odd replay
ids, wrong types, deep nesting, many channels, raw bytes). Every request is recorded in
``seen``, so a test can show that nothing reached a place it must not. The next attack is
one more handler.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Batch = list[dict[str, Any]] | bytes

DEFAULT_TOKEN = "00DHo0000001AbC!AQsAQHostileTokenValue0123456789abcdef"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HostileServer:
    """The server; ``on(path, handler)`` replaces what a path does (any method)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.url = ""
        self.seen: list[Seen] = []
        self.handlers: dict[str, Handler] = {}
        self.bayeux = FakeBayeux()
        self.instance_url: str | None = None  # None: the server's own URL
        self.access_token = DEFAULT_TOKEN
        self._runner: web.AppRunner | None = None
        self.on("/services/oauth2/token", self._token)
        self.on("/services/data/", json_reply([{"label": "Winter '27", "version": "68.0"}]))

    def on(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def _token(self, request: web.Request) -> web.StreamResponse:
        return await token_reply(self.instance_url or self.url, self.access_token)(request)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.method, request.path, dict(request.headers), body))
        handler = self.handlers.get(request.path)
        if handler is None and request.path.startswith("/cometd/"):
            handler = self.bayeux.handle
        if handler is None:
            return web.Response(status=404, text="not here")
        return await handler(request)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self.bayeux.release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> HostileServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def dumps(payload: Any) -> bytes:
    """JSON as a careless server writes it: integers past 64 bits, ``Infinity``..."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload).encode()


# --- behaviours ------------------------------------------------------------------------------


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=dumps(payload),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    return handler


def token_reply(instance_url: str, access_token: str = DEFAULT_TOKEN, **extra: Any) -> Handler:
    """Salesforce's token JSON with whatever ``instance_url`` the test wants."""
    return json_reply(
        {
            "access_token": access_token,
            "instance_url": instance_url,
            "id": f"{instance_url}/id/00DHo0000001AbCMAU/005Ho0000001AbCIAU",
            "token_type": "Bearer",
            "issued_at": "1700000000000",
            "signature": "c2lnbmF0dXJl",
            **extra,
        }
    )


def redirect(status: int, location: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


@lru_cache(maxsize=4)
def gzip_of_zeros(size: int, encoding: str = "gzip") -> bytes:
    """``size`` zero bytes, gzip- (or zlib-) compressed at the best ratio (~1:1000)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    block = bytes(1 << 20)
    out = [packer.compress(block) for _ in range(size >> 20)]
    out.append(packer.compress(bytes(size & ((1 << 20) - 1))))
    out.append(packer.flush())
    return b"".join(out)


def gzip_bomb(decoded_size: int, encoding: str = "gzip", status: int = 200) -> Handler:
    """A small compressed body that inflates to ``decoded_size`` bytes."""
    body = gzip_of_zeros(decoded_size, encoding)

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=body,
            status=status,
            headers={"Content-Encoding": encoding, "Content-Type": "application/json"},
        )

    return handler


def trickle(body: bytes | None, delay: float = 0.05, status: int = 200) -> Handler:
    """The status and headers at once, then the body one byte per ``delay`` seconds
    (``None``: spaces forever, so the reply never ends)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        if body is None:
            data: Iterable[bytes] = itertools.repeat(b" ")
        else:
            data = (body[i : i + 1] for i in range(len(body)))
        for byte in data:
            await response.write(byte)
            await asyncio.sleep(delay)
        await response.write_eof()
        return response

    return handler


def hold(release: asyncio.Event) -> Handler:
    """Never answer until ``release`` is set (then 503)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=503, text="released")

    return handler


# --- a scripted CometD endpoint --------------------------------------------------------------


def event(channel: str, replay_id: Any, **data: Any) -> dict[str, Any]:
    """A PushTopic-shaped event with any replay id (an int, 2**63, -5, "7", 1.5, True...)."""
    return {
        "channel": channel,
        "data": {
            "event": {"createdDate": "2026-12-01T10:00:00.000Z", "replayId": replay_id},
            "sobject": {"Id": "001Ho000001AbCdIAK", **data},
        },
    }


def deep_event(channel: str, replay_id: int, depth: int) -> bytes:
    """An event whose payload nests ``depth`` arrays: valid JSON, too deep to parse here."""
    head = (
        b'{"data":{"event":{"createdDate":"2026-12-01T10:00:00.000Z","replayId":'
        + str(replay_id).encode()
        + b'},"sobject":{"Deep__c":'
    )
    return head + b"[" * depth + b"]" * depth + b'}},"channel":' + orjson.dumps(channel) + b"}"


@dataclass
class FakeBayeux:
    """Handshake and subscribe always succeed; each /meta/connect answers with the next
    pushed batch (messages placed before the connect reply, or a raw body) or, when none is
    pushed, after ``hold`` seconds with nothing. ``advice`` goes on every connect reply."""

    hold: float = 0.05
    advice: Any = field(default_factory=lambda: {"timeout": 2000, "reconnect": "retry"})
    release: asyncio.Event = field(default_factory=asyncio.Event)
    batches: asyncio.Queue[Batch] = field(default_factory=asyncio.Queue)
    hold_first_connect: bool = False
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    connects: int = 0

    def push(self, batch: Batch) -> None:
        self.batches.put_nowait(batch)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        messages = orjson.loads(await request.read())
        replies: list[dict[str, Any]] = []
        raw: bytes | None = None
        for msg in messages if isinstance(messages, list) else [messages]:
            channel = msg.get("channel")
            reply = {"channel": channel, "id": msg.get("id"), "successful": True}
            if channel == "/meta/handshake":
                reply.update(clientId="hostile-client", version="1.0", ext={"replay": True})
            elif channel == "/meta/subscribe":
                self.subscriptions.append(msg)
                reply["subscription"] = msg.get("subscription")
            elif channel == "/meta/connect":
                batch = await self._next_batch()
                reply["advice"] = self.advice
                if isinstance(batch, bytes):
                    raw = batch
                else:
                    replies.extend(batch)
            replies.append(reply)
        if raw is not None:  # a raw body: its elements, then the replies
            tail = b",".join(dumps(r) for r in replies)
            body = raw[:-1] + b"," + tail + b"]" if raw.strip() != b"[]" else b"[" + tail + b"]"
            return web.Response(body=body, content_type="application/json")
        return web.Response(body=dumps(replies), content_type="application/json")

    async def _next_batch(self) -> Batch:
        self.connects += 1
        if self.connects == 1 and self.hold_first_connect:
            await self.release.wait()
        try:
            return await asyncio.wait_for(self.batches.get(), self.hold)
        except TimeoutError:
            return []
