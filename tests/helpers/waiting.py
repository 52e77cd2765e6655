"""Waiting for a condition: the one way tests wait (never a sleep for readiness).

``wait_until`` is for async tests (it yields to the loop, so the condition can come true;
on the qasync loop ``qtbot.waitUntil`` would hang); ``wait_until_blocking`` is for plain
tests that watch another process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL = 0.02


def _failed(what: str, timeout: float) -> TimeoutError:
    return TimeoutError(f"{what or 'condition'} not met within {timeout:g} s")


async def wait_until(predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """The predicate's first true value."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise _failed(what, timeout)
        await asyncio.sleep(INTERVAL)
    return value


def wait_until_blocking(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = "", interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise _failed(what, timeout)
        time.sleep(interval)
