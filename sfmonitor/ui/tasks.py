"""One place that starts the window's asyncio tasks and keeps them alive.

asyncio holds only weak references to tasks: a task nobody keeps can be collected mid-way.
``Tasks`` keeps each one until it ends and reports a failure once (to the log and to the
window), so that no action fails silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Tasks:
    """``spawn`` a coroutine as a task; ``on_error`` hears of every task that raised."""

    def __init__(self, on_error: Callable[[str], None] | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_error = on_error

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:  # no running loop: the app is shutting down
            coro.close()
            return None
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("action failed: %s", exc, exc_info=exc)
            if self.on_error is not None:
                self.on_error(f"{type(exc).__name__}: {exc}")

    def __len__(self) -> int:
        return len(self._tasks)

    def _others(self) -> list[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return [t for t in self._tasks if t is not current]

    async def settle(self) -> None:
        """Wait until every other task has ended (tests, shutdown)."""
        while others := self._others():
            await asyncio.gather(*others, return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every other task and wait for them (the window is closing)."""
        for task in self._others():
            task.cancel()
        await self.settle()
