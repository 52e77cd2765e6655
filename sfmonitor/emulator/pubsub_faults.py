"""Faults of the emulator's Pub/Sub server, driven through the control API
(``POST /__emulator/faults``) or in-process: the service unavailable, streams reset,
a silent stall (no events, no keepalives), and, through the org, an exhausted allocation."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

PUBSUB_FAULTS = ("pubsub_unavailable", "pubsub_reset", "pubsub_stall")


@dataclass
class PubSubFaults:
    unavailable: int = 0  # the next N calls fail with service.unavailable
    stalled_until: float | None = None  # monotonic deadline; inf = until cleared
    streams: set[Any] = field(default_factory=set)  # open Subscribe streams
    fired: dict[str, int] = field(default_factory=dict)
    _resumed: asyncio.Event | None = None

    def take_unavailable(self) -> bool:
        if self.unavailable > 0:
            self.unavailable -= 1
            self.fired["unavailable"] = self.fired.get("unavailable", 0) + 1
            return True
        return False

    def reset_streams(self, count: int | None = None) -> int:
        """Cut open streams (all, or ``count``) as a broken HTTP/2 stream does."""
        from .pubsub_wire import stream_reset  # gRPC is loaded only with a Pub/Sub server

        victims = list(self.streams)[: count if count is not None else None]
        for stream in victims:
            stream.failure = stream_reset()
            stream.wake.set()
        self.fired["reset"] = self.fired.get("reset", 0) + len(victims)
        return len(victims)

    def stall(self, seconds: float | None = None) -> None:
        """Every stream goes silent (no events, no keepalives) for ``seconds`` or until
        ``clear()``; the connection stays up, as in the field reports of dead streams."""
        self.stalled_until = time.monotonic() + (seconds if seconds is not None else float("inf"))
        self._resumed = asyncio.Event()
        self.fired["stall"] = self.fired.get("stall", 0) + 1

    def clear(self) -> None:
        self.unavailable = 0
        self.stalled_until = None
        if self._resumed is not None:
            self._resumed.set()

    async def wait_while_stalled(self) -> None:
        while self.stalled_until is not None:
            remaining = self.stalled_until - time.monotonic()
            if remaining <= 0:
                self.clear()
                return
            resumed = self._resumed
            if resumed is None:
                return
            try:
                await asyncio.wait_for(resumed.wait(), remaining)
            except TimeoutError:
                continue

    def apply(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """A control-API fault by name; returns the JSON answer."""
        if name == "pubsub_unavailable":
            self.unavailable += int(body.get("count", 1))
            return {"ok": True}
        if name == "pubsub_reset":
            count = body.get("count")
            return {"reset": self.reset_streams(int(count) if count is not None else None)}
        seconds = body.get("seconds")
        self.stall(float(seconds) if seconds is not None else None)
        return {"ok": True}

    def state(self) -> dict[str, Any]:
        return {
            "unavailable": self.unavailable,
            "stalled": self.stalled_until is not None,
            "fired": dict(self.fired),
        }
