"""``Forwarder``: carries a profile's stored events to one sink, at least once, in order.

The store is the outbox. The forwarder reads events stored after its cursor in store order,
in batches, writes each batch, and moves the cursor only once the sink has acknowledged the
whole batch. A crash therefore resends from the cursor (duplicates possible, losses never).
It runs as its own asyncio task and does every SQLite call on its own worker thread, so
receiving from Salesforce never waits for it: a slow or down sink only grows the lag,
retried with jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sfmonitor.logs import redact
from sfmonitor.streaming.state import Backoff

from .base import Sink, SinkError, SinkRefusedError
from .outbox import CursorStore, OutboxReader, OutboxRecord

log = logging.getLogger(__name__)
T = TypeVar("T")


class SinkState(enum.StrEnum):
    STARTING = "starting"
    FORWARDING = "forwarding"  # connected; caught up or sending
    RETRYING = "retrying"  # the sink failed; waiting to try again
    FAILED = "failed"  # the sink refused events for good; stopped
    STOPPED = "stopped"


@dataclass(frozen=True)
class Lag:
    """How far a sink is behind the store (the status line, the window, ``sinks``)."""

    sink: str  # the sink's URL (no secrets)
    state: SinkState
    events: int  # stored events the sink has not acknowledged
    seconds: float  # how long ago the oldest of them was received (0 when none)
    forwarded: int  # events acknowledged since this forwarder started
    cursor: int  # events.id of the newest acknowledged event
    error: str | None = None  # the last failure, while retrying or failed
    retry_in: float | None = None  # seconds until the next try

    def describe(self) -> str:
        """One line for people: the state, how far behind, and why (no secrets: the URL and
        the error text never hold one)."""
        state = self.state.value
        if self.state is SinkState.RETRYING and self.retry_in is not None:
            state = f"retrying (next try {self.retry_in:.0f} s after the last failure)"
        behind = f"{self.events:,} event(s) behind"
        if self.events:
            behind += f" (oldest received {self.seconds:.1f} s ago)"
        text = f"{state}, {behind}, {self.forwarded:,} forwarded"
        return text + (f": {self.problem}" if self.problem else "")

    @property
    def problem(self) -> str | None:
        """The last failure without the sink's URL in front (shown next to it anyway)."""
        return self.error.removeprefix(f"{self.sink}: ") if self.error else None


class Forwarder:
    """Forwards the outbox to ``sink`` until ``stop()``; ``lag`` tells how far behind it is.

    ``start``: where a sink without a cursor begins, ``all`` (every stored event) or
    ``new`` (events stored from now on).
    """

    def __init__(
        self,
        sink: Sink,
        outbox: OutboxReader,
        cursors: CursorStore,
        sink_id: str,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.1,
        lag_interval: float = 0.5,
        write_timeout: float = 120.0,
        backoff: Backoff | None = None,
        start: str = "all",
        on_lag: Callable[[Lag], None] | None = None,
    ) -> None:
        if start not in ("all", "new"):
            raise ValueError(f"start must be 'all' or 'new', not {start!r}")
        self.sink = sink
        self.outbox = outbox
        self.cursors = cursors
        self.sink_id = sink_id
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.lag_interval = lag_interval
        self.write_timeout = write_timeout
        self.backoff = backoff or Backoff(base=1.0, cap=60.0)
        self.start = start
        self.on_lag = on_lag
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sfmonitor-sink")
        self._stopping = asyncio.Event()
        self._nudged = asyncio.Event()
        self._cursor = 0
        self._opened = False
        self._lag = Lag(sink.name, SinkState.STARTING, 0, 0.0, 0, 0)

    @property
    def lag(self) -> Lag:
        return self._lag

    def nudge(self) -> None:
        """New events were stored: look now rather than at the next poll."""
        self._nudged.set()

    def stop(self) -> None:
        """End ``run()`` after the batch in flight (if any) is acknowledged or fails."""
        self._stopping.set()
        self._nudged.set()

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _set(self, **changes: Any) -> None:
        self._lag = replace(self._lag, **changes)
        if self.on_lag is not None:
            self.on_lag(self._lag)

    async def run(self) -> None:
        """Forward until ``stop()``; raises SinkRefusedError if the sink refused events for
        good (the store keeps them; the cursor stays before them)."""
        watcher: asyncio.Task[None] | None = None
        try:
            cursor = await self._call(self.cursors.get, self.sink_id)
            if cursor is None:
                cursor = 0 if self.start == "all" else await self._call(self.outbox.newest_id)
                await self._call(self.cursors.set, self.sink_id, cursor, 0)
            self._cursor = cursor
            self._set(cursor=cursor)
            await self._refresh_lag()
            watcher = asyncio.ensure_future(self._watch_lag())
            await self._loop()
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await self.sink.close()
            self._executor.shutdown(wait=False)
            if self._lag.state is not SinkState.FAILED:
                self._set(state=SinkState.STOPPED, retry_in=None)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self._opened:
                    await self.sink.open()
                    self._opened = True
                    self._set(state=SinkState.FORWARDING, error=None, retry_in=None)
                if not await self._forward_batch():
                    await self._idle()
            except SinkRefusedError as exc:
                message = redact(str(exc))
                log.error("sink stopped: %s", message)
                self._set(state=SinkState.FAILED, error=message, retry_in=None)
                raise
            except (SinkError, TimeoutError, sqlite3.Error) as exc:
                await self._retry(exc)

    async def _forward_batch(self) -> bool:
        """Send the next batch; False when there was nothing to send."""
        batch = await self._call(self.outbox.read_after, self._cursor, self.batch_size)
        if not batch:
            return False
        await self._write(batch)
        last = batch[-1].id
        await self._call(self.cursors.set, self.sink_id, last, len(batch))
        self._cursor = last
        self.backoff.reset()
        self._set(cursor=last, forwarded=self._lag.forwarded + len(batch))
        return True

    async def _write(self, batch: list[OutboxRecord]) -> None:
        """``sink.write`` bounded by ``write_timeout``. A sink that stops answering may not
        even let its write be cancelled (a rollback waiting for a frozen server): the write
        is left to end when the sink is closed, rather than waited for."""
        task = asyncio.ensure_future(self.sink.write(batch))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.write_timeout)
        except asyncio.CancelledError:
            task.cancel()
            task.add_done_callback(_forget)
            raise
        if not done:
            task.cancel()
            task.add_done_callback(_forget)
            raise TimeoutError
        task.result()

    async def _idle(self) -> None:
        """Caught up: refresh the lag and wait for a nudge or the next poll."""
        await self._refresh_lag()
        self._nudged.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._nudged.wait(), self.poll_interval)

    async def _retry(self, exc: BaseException) -> None:
        if isinstance(exc, sqlite3.Error):
            message = f"reading the store: {exc}"
        elif isinstance(exc, TimeoutError):
            message = f"{self.sink.name}: no acknowledgement in {self.write_timeout:g} s"
        else:
            message = redact(str(exc))
        await self.sink.close()
        self._opened = False
        delay = self.backoff.next()
        log.warning("sink: %s; retrying in %.1f s", message, delay)
        self._set(state=SinkState.RETRYING, error=message, retry_in=delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _refresh_lag(self) -> None:
        cursor = self._cursor
        backlog = await self._call(self.outbox.backlog, cursor)
        if cursor != self._cursor:
            return  # a batch was acknowledged meanwhile: this count is stale
        seconds = 0.0
        if backlog.oldest_received_ms is not None:
            seconds = max(0.0, time.time() - backlog.oldest_received_ms / 1000)
        self._set(events=backlog.events, seconds=seconds)

    async def _watch_lag(self) -> None:
        """Keep the lag current while a batch is in flight or the sink is retried. Counting
        a backlog of millions (a sink down for hours) takes a while: it is then counted
        less often, so that the count never takes more than a twentieth of a core."""
        pause = self.lag_interval
        while True:
            await asyncio.sleep(pause)
            began = time.monotonic()
            with contextlib.suppress(Exception):  # a busy store: the next turn will do
                await self._refresh_lag()
            pause = max(self.lag_interval, 20 * (time.monotonic() - began))


def _forget(task: asyncio.Future[None]) -> None:
    """Retrieve the end of a write that was given up on (nobody waits for it)."""
    if not task.cancelled():
        task.exception()
