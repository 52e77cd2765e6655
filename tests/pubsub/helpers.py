"""Shared pieces of the Pub/Sub tests: an emulator with its gRPC server, credentials from
the emulator's own OAuth endpoint (a real login over HTTP), and waiting on conditions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)
from sfmonitor.pubsub import CallbackTokens, Credentials, PubSubConnection

LOGIN = {
    "grant_type": "password",
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "username": DEFAULT_USERNAME,
    "password": DEFAULT_PASSWORD,
}


async def login(url: str, ssl: Any = None) -> Credentials:
    """The password grant, then userinfo for the org id: what a real client does."""
    connector = aiohttp.TCPConnector(ssl=ssl) if ssl is not None else None
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(f"{url}/services/oauth2/token", data=LOGIN) as r:
            body = await r.json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        async with http.get(f"{url}/services/oauth2/userinfo", headers=headers) as r:
            info = await r.json()
    return Credentials(body["access_token"], body["instance_url"], info["organization_id"])


async def tokens_for(emu: Emulator) -> CallbackTokens:
    return CallbackTokens(await login(emu.url), refresh=lambda: login(emu.url))


@asynccontextmanager
async def pubsub_emulator(**settings: Any) -> AsyncIterator[Emulator]:
    pubsub = settings.pop("pubsub", None)
    config = EmulatorConfig(**settings)
    if pubsub is not None:
        config.pubsub = pubsub
    async with Emulator(config) as emu:
        await emu.start_pubsub()
        yield emu


@asynccontextmanager
async def connected(emu: Emulator, **kwargs: Any) -> AsyncIterator[PubSubConnection]:
    assert emu.pubsub is not None
    conn = PubSubConnection(await tokens_for(emu), emu.pubsub.address, tls=False, **kwargs)
    try:
        yield conn
    finally:
        await conn.close()
