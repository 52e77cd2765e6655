"""Fixtures of the login tests: emulators with chosen settings, a "browser" that is an
aiohttp client (it follows the authorize redirect to the loopback receiver, as a browser
does), and free ports for the receiver."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest_asyncio

from sfmonitor.emulator import DEFAULT_CLIENT_ID, Emulator, EmulatorConfig

MakeEmulator = Callable[..., Awaitable[Emulator]]


@pytest_asyncio.fixture
async def make_emulator() -> AsyncIterator[MakeEmulator]:
    started: list[Emulator] = []

    async def make(**settings: Any) -> Emulator:
        settings.setdefault("connect_timeout", 2.0)
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        await emu.stop()


def free_port() -> int:
    """A port nothing listens on right now (the receiver binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def allow_callback(emu: Emulator, redirect_uri: str, client_id: str = DEFAULT_CLIENT_ID) -> None:
    """Register a callback URL with the app, as a user does in Setup."""
    emu.org.apps[client_id].callback_urls.append(redirect_uri)


@dataclass
class Browser:
    """Opens URLs like a browser: follows redirects, remembers what it saw, and can submit
    the emulator's login form (Allow or Deny)."""

    action: str | None = None  # None: expect auto-approve; "allow" / "deny": use the form
    password: str = ""
    pages: list[tuple[int, str]] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)

    async def __call__(self, url: str) -> bool:
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as resp:
                self._seen(resp, await resp.text())
            if self.action is not None:
                form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', self.pages[-1][1]))
                form.update(action=self.action, password=self.password)
                login = url.split("?")[0]
                async with http.post(login, data=form) as resp:
                    self._seen(resp, await resp.text())
        return True

    def _seen(self, resp: aiohttp.ClientResponse, text: str) -> None:
        self.redirects += [str(r.headers.get("Location", "")) for r in resp.history]
        self.pages.append((resp.status, text))
