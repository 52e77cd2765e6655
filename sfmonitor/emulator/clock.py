"""A wall clock that tests can move forward, so retention windows expire on demand."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time plus an adjustable offset (seconds)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        """Seconds since the epoch, as the emulated org sees them."""
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        self.offset += seconds
