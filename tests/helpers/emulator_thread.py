"""An emulator served from a background thread, for synchronous tests (and code that runs
its own event loop, like the quickstart's ``run_until_complete`` example)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)

# the emulator's secrets as ``--secrets-stdin`` reads them: password line, client secret line
SECRETS_STDIN = f"{DEFAULT_PASSWORD}\n{DEFAULT_CLIENT_SECRET}\n"


def profiles_add(url: str, channels: tuple[str, ...], name: str = "Emu") -> list[str]:
    """The arguments of ``sfmonitor profiles add`` for a profile of the emulator at
    ``url`` as its default user, the secrets read from stdin (``SECRETS_STDIN``)."""
    subscribe = [arg for channel in channels for arg in ("--channel", channel)]
    return [
        *("profiles", "add", name, "--login-url", url),
        *("--username", DEFAULT_USERNAME, "--client-id", DEFAULT_CLIENT_ID),
        *subscribe,
        "--secrets-stdin",
    ]


class EmulatorThread:
    def __init__(self, emulator: Emulator, loop: asyncio.AbstractEventLoop) -> None:
        self.emulator = emulator
        self.loop = loop

    @property
    def url(self) -> str:
        return self.emulator.url

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the emulator's loop and return its result."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)


@contextmanager
def emulator_thread(**settings: Any) -> Iterator[EmulatorThread]:
    ready = threading.Event()
    stop: asyncio.Event | None = None
    holder: dict[str, Any] = {}

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with Emulator(EmulatorConfig(**settings)) as emu:
            holder["handle"] = EmulatorThread(emu, asyncio.get_running_loop())
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("emulator thread did not start")
    handle: EmulatorThread = holder["handle"]
    try:
        yield handle
    finally:
        assert stop is not None
        handle.loop.call_soon_threadsafe(stop.set)
        thread.join(30)
