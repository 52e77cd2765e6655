"""A deliberately raw Bayeux client for emulator tests: it posts exactly what a test says."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

Message = dict[str, Any]


class BayeuxProbe:
    def __init__(self, url: str, version: str = "62.0") -> None:
        self.url = url
        self.version = version
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.token: str | None = None
        self.client_id: str | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> BayeuxProbe:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def login(self, **overrides: str) -> dict[str, Any]:
        form = {
            "grant_type": "password",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
            **overrides,
        }
        async with self.http.post(f"{self.url}/services/oauth2/token", data=form) as r:
            body: dict[str, Any] = await r.json()
            assert r.status == 200, body
        self.token = body["access_token"]
        return body

    def next_id(self) -> str:
        return str(next(self._ids))

    async def post(
        self,
        messages: Any,
        *,
        auth: str | None = "Bearer",
        path: str | None = None,
        timeout: float = 10,
    ) -> tuple[int, Any]:
        headers = {}
        if auth is not None and self.token:
            headers["Authorization"] = f"{auth} {self.token}".strip() if auth else self.token
        url = f"{self.url}{path or f'/cometd/{self.version}'}"
        async with self.http.post(
            url, json=messages, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as r:
            try:
                body = await r.json(content_type=None)
            except ValueError:
                body = await r.text()
            return r.status, body

    async def handshake(self) -> Message:
        status, body = await self.post(
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "minimumVersion": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                    "ext": {"replay": True},
                    "id": self.next_id(),
                }
            ]
        )
        assert status == 200 and body[0]["successful"], body
        self.client_id = body[0]["clientId"]
        return body[0]  # type: ignore[no-any-return]

    def connect_msg(self, **extra: Any) -> Message:
        return {
            "channel": "/meta/connect",
            "clientId": self.client_id,
            "connectionType": "long-polling",
            "id": self.next_id(),
            **extra,
        }

    async def connect(self, **extra: Any) -> list[Message]:
        status, body = await self.post([self.connect_msg(**extra)])
        assert status == 200, (status, body)
        return body  # type: ignore[no-any-return]

    async def subscribe(self, channel: str, replay: Any = None, **extra: Any) -> Message:
        msg: Message = {
            "channel": "/meta/subscribe",
            "clientId": self.client_id,
            "subscription": channel,
            "id": self.next_id(),
            **extra,
        }
        if replay is not None:
            msg["ext"] = {"replay": {channel: replay}}
        status, body = await self.post([msg])
        assert status == 200, (status, body)
        return body[0]  # type: ignore[no-any-return]

    async def start(self, *channels: str, replay: Any = None) -> None:
        """Log in, handshake, first connect, subscribe."""
        await self.login()
        await self.handshake()
        await self.connect()
        for ch in channels:
            reply = await self.subscribe(ch, replay)
            assert reply["successful"], reply

    async def events(self, n: int, max_polls: int = 20) -> list[Message]:
        """Poll until ``n`` events arrived (fails if the poll limit is reached first)."""
        out: list[Message] = []
        for _ in range(max_polls):
            body = await self.connect()
            out.extend(m for m in body if not m["channel"].startswith("/meta/"))
            if len(out) >= n:
                return out
        raise AssertionError(f"got {len(out)} of {n} events")
