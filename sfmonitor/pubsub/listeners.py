"""``EventQueue``: a ready-made ``SubscriptionListener`` to iterate over events, for scripts
and tests (the capture brings its own listener that writes to the store)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from sfmonitor.streaming.state import Notice

from .events import PubSubEvent


class EventQueue:
    """Collects events, positions and notices; ``async for event in queue`` reads events.

    ``maxsize`` batches are buffered; a full queue holds the subscription's reader, so a
    slow consumer slows the stream instead of growing memory.
    """

    def __init__(self, maxsize: int = 16) -> None:
        self._batches: asyncio.Queue[Sequence[PubSubEvent]] = asyncio.Queue(maxsize)
        self._pending: list[PubSubEvent] = []
        self.positions: list[tuple[str, bytes]] = []
        self.notices: list[Notice] = []
        self.changed = asyncio.Event()

    async def on_events(self, topic: str, events: Sequence[PubSubEvent]) -> None:
        await self._batches.put(events)

    def on_position(self, topic: str, replay_id: bytes) -> None:
        self.positions.append((topic, replay_id))
        self._poke()

    def on_notice(self, notice: Notice) -> None:
        self.notices.append(notice)
        self._poke()

    def _poke(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def get(self) -> PubSubEvent:
        while not self._pending:
            self._pending = list(await self._batches.get())
        return self._pending.pop(0)

    async def take(self, n: int) -> list[PubSubEvent]:
        """The next ``n`` events."""
        return [await self.get() for _ in range(n)]

    def __aiter__(self) -> AsyncIterator[PubSubEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[PubSubEvent]:
        while True:
            yield await self.get()
