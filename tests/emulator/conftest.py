from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from sfmonitor.emulator import Emulator, EmulatorConfig
from tests.helpers.probe import BayeuxProbe

MakeEmulator = Callable[..., Awaitable[Emulator]]


@pytest_asyncio.fixture
async def make_emulator() -> AsyncIterator[MakeEmulator]:
    """Start emulators with chosen settings; all are stopped after the test."""
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


@pytest_asyncio.fixture
async def emulator(make_emulator: MakeEmulator) -> Emulator:
    return await make_emulator()


@pytest_asyncio.fixture
async def probe(emulator: Emulator) -> AsyncIterator[BayeuxProbe]:
    async with BayeuxProbe(emulator.url) as p:
        yield p
