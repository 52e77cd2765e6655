"""``StoreWriter``: events buffered on the event loop and written, ~100 ms or one big
batch at a time, on ONE worker thread; each write puts the events and each channel's
newest replay id in one transaction (``CaptureStore.ingest_records``), and the Pub/Sub
positions that keepalives moved after them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sfmonitor.store import CaptureStore, IngestResult
from sfmonitor.store.memory import release_free_memory
from sfmonitor.store.records import EventRecord, PubSubWire, event_record
from sfmonitor.streaming import StreamEvent

T = TypeVar("T")
FLOOD_BATCH = 2000  # a batch this big means a flood (a backlog, a replay)
FLOOD_OVER = 1.0  # seconds without events after a flood: it is over


class StoreWriteError(RuntimeError):
    """Events could not be written; capture stops so that the server keeps them for later."""


class StoreWriter:
    """Batches events into ``CaptureStore.ingest_records`` on one worker thread, in order.

    Each event becomes its row as it is added, on the caller's (event loop's) thread: a
    few microseconds each, and the writer's thread then spends its time in SQLite, which
    releases the GIL, instead of in Python, which holds it against a painting UI. The
    buffer holds rows (strings and numbers), not parsed messages, which also keeps the
    garbage collector's walks short during a flood."""

    def __init__(
        self,
        store: CaptureStore,
        profile_id: int,
        interval: float = 0.1,
        max_batch: int = 5000,
        max_buffered: int = 20_000,
        on_written: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self.store = store
        self.profile_id = profile_id
        self.interval = interval
        self.max_batch = max_batch
        self.max_buffered = max_buffered
        self.on_written = on_written
        self.stored = 0
        self.duplicates = 0
        self._buffer: list[EventRecord] = []
        self._positions: dict[str, bytes] = {}  # channel -> Pub/Sub replay id, no event
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sfmonitor-store")
        self._has_data = asyncio.Event()
        self._full = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._closing = False
        self._flooded = False
        self._task: asyncio.Task[None] | None = None

    def start(self, on_failed: Callable[[], None] | None = None) -> None:
        """Start writing; ``on_failed`` is called as soon as a write fails."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")
        if on_failed is not None:
            failed = on_failed
            self._task.add_done_callback(
                lambda t: failed() if not t.cancelled() and t.exception() else None
            )

    def add(self, event: StreamEvent, wire: PubSubWire | None = None) -> EventRecord:
        """Buffer an event (``wire``: what a Pub/Sub event carries); returns its row."""
        record = event_record(self.profile_id, event, wire)
        self._buffer.append(record)
        if self._positions:
            self._positions.pop(event.channel, None)  # this event's position is newer
        self._has_data.set()
        if len(self._buffer) >= self.max_batch:
            self._full.set()
            if len(self._buffer) >= self.max_buffered:
                self._room.clear()
        return record

    def set_position(self, channel: str, replay_bytes: bytes) -> None:
        """A Pub/Sub keepalive moved ``channel``'s resume point with no event: written
        after the events buffered before it, in the same transaction (never ahead of
        them: a crash in between would otherwise skip them)."""
        self._positions[channel] = replay_bytes
        self._has_data.set()

    async def wait_room(self) -> None:
        """Back-pressure: wait while the buffer is over its limit (the disk is slower)."""
        if not self._room.is_set():
            await self._room.wait()
        if self._task is not None and self._task.done():
            self._task.result()  # re-raise the write error

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run another store write on the writer's thread (ordered with the ingests)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        try:
            await self._write_loop()
        finally:
            self._room.set()  # never leave a producer waiting on a dead writer

    async def _write_loop(self) -> None:
        while True:
            if self._flooded:
                try:
                    await asyncio.wait_for(self._has_data.wait(), FLOOD_OVER)
                except TimeoutError:  # a flood has drained: give its memory back
                    self._flooded = False
                    await self.call(release_free_memory)
                    continue
            await self._has_data.wait()
            if not self._closing and len(self._buffer) < self.max_batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.interval)
            batch, self._buffer = self._buffer, []
            moved, self._positions = self._positions, {}
            self._flooded = self._flooded or len(batch) >= FLOOD_BATCH
            self._has_data.clear()
            self._full.clear()
            self._room.set()
            if batch or moved:
                positions = [(self.profile_id, ch, raw) for ch, raw in moved.items()]
                try:
                    result = await self.call(self.store.ingest_records, batch, positions)
                    batch = []  # not kept alive while waiting for the next events
                except Exception as exc:
                    raise StoreWriteError(
                        f"cannot write to {self.store.path}: {exc}; capture stopped "
                        "(the server keeps the events: they are fetched again on the next start)"
                    ) from exc
                self.stored += result.stored
                self.duplicates += result.duplicates
                if self.on_written is not None:
                    self.on_written(result)
            if self._closing and not self._buffer and not self._positions:
                return

    async def close(self) -> None:
        """Write what is buffered and stop (raises StoreWriteError if writing failed)."""
        self._closing = True
        self._has_data.set()
        try:
            if self._task is not None:
                await self._task
        finally:
            self._executor.shutdown(wait=True)
