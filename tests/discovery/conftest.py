"""Emulators with chosen catalogs and users, and real logins to them over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest_asyncio

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
    User,
)

LIMITED = "limited@sfmonitor.example"  # a user without View Setup and Configuration

MakeEmulator = Callable[..., Awaitable[Emulator]]


def users(**limited: Any) -> list[User]:
    """The default user, and a second one with the given restrictions."""
    settings = {"view_setup": False, **limited}
    return [
        User(DEFAULT_USERNAME, DEFAULT_PASSWORD),
        User(LIMITED, DEFAULT_PASSWORD, display_name="Limited User", **settings),
    ]


async def login(url: str, username: str = DEFAULT_USERNAME) -> str:
    """An access token from the password grant, as any client gets one."""
    form = {
        "grant_type": "password",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "username": username,
        "password": DEFAULT_PASSWORD,
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/services/oauth2/token", data=form) as r,
    ):
        body = await r.json()
        assert r.status == 200, body
        token: str = body["access_token"]
        return token


@pytest_asyncio.fixture
async def make_emulator() -> AsyncIterator[MakeEmulator]:
    """Start emulators with chosen settings (the demo catalog unless told); all stopped
    after the test."""
    started: list[Emulator] = []

    async def make(**settings: Any) -> Emulator:
        settings.setdefault("catalog", "demo")
        settings.setdefault("connect_timeout", 2.0)
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        await emu.stop()


def credentials(emu: Emulator) -> dict[str, Any]:
    """Our CometD client's login to ``emu`` as the default user."""
    return {
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "login_url": emu.url,
    }
