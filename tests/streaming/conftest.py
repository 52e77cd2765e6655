from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        emu.org.ensure_topic("Foo")
        emu.org.ensure_topic("Bar")
        yield emu


@pytest_asyncio.fixture
async def credentials(emulator: Emulator) -> dict[str, Any]:
    """The quickstart's ``**credentials``, plus where to log in."""
    return {
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "login_url": emulator.url,
    }
