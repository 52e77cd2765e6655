"""Network calls of the window's REST flows (discovery, limits, publish) run off the Qt
thread: on an event loop of their own in a daemon thread, awaited from the qasync loop.

Parsing a large org's describeGlobal takes milliseconds that the Qt thread (and the capture
sharing its loop) should not lose. Cancelling the awaiting task cancels the call in its
thread; a daemon thread never holds up the app's exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return  # the caller was cancelled meanwhile
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def run_off_thread(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``await factory()`` on an event loop in another thread; its result or exception."""
    home = asyncio.get_running_loop()
    done: asyncio.Future[T] = home.create_future()
    ready = threading.Event()
    remote: dict[str, Any] = {}

    async def main() -> T:
        remote["loop"] = asyncio.get_running_loop()
        remote["task"] = asyncio.current_task()
        ready.set()
        return await factory()

    def target() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = asyncio.run(main())
        except BaseException as exc:  # handed to the awaiting task, not raised here
            error = exc
        ready.set()
        with contextlib.suppress(RuntimeError):  # the window's loop is closed: nobody waits
            home.call_soon_threadsafe(_settle, done, result, error)

    threading.Thread(target=target, name="sfmonitor-rest", daemon=True).start()
    try:
        return await done
    except asyncio.CancelledError:
        if ready.is_set() and "task" in remote:
            with contextlib.suppress(RuntimeError):  # that loop has ended already
                remote["loop"].call_soon_threadsafe(remote["task"].cancel)
        raise
