"""The sinks of a running capture: one ``Forwarder`` per sink, each its own task.

A capture forwards to the sinks saved on its profile (``saved_sink_plans``, passwords
from the keyring) and to those it was given for this run (``run_sink_plans``, the
``--sink`` URLs). Every forwarder reads the store (the outbox) on its own thread and
connection, is nudged after each write of the store writer, and is stopped with the
capture after the batch it is sending: receiving never waits for a sink, a slow or down
sink only grows its lag.

Every record carries the org id, known from the login (the ``id`` URL of the token
response): the forwarders start at the first login. A profile that keeps its org id can
start them before (``Capture.run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sfmonitor.sinks import (
    Backlog,
    Forwarder,
    Lag,
    SinkContext,
    SinkError,
    SinkSpec,
    SinkState,
    SqliteCursorStore,
    SqliteOutbox,
    make_sink,
    parse_sink_url,
    split_secret,
)
from sfmonitor.store import CaptureStore, CredentialVault

log = logging.getLogger(__name__)
STOP_TIMEOUT = 30.0  # seconds a sink may take to finish its batch when the capture stops
DRAIN = 5.0  # seconds the sinks get to send the last events stored before a stop
WAITING = "waiting for the first login (every record carries the org id)"


@dataclass(frozen=True)
class SinkPlan:
    """A sink a capture forwards to, with its password (from the keyring or the URL)."""

    spec: SinkSpec
    password: str | None = field(default=None, repr=False)
    saved: bool = True  # saved on the profile (False: given to this run only)


def saved_sink_plans(
    store: CaptureStore, vault: CredentialVault | None, profile_id: int
) -> list[SinkPlan]:
    """The profile's saved sinks, their passwords from ``vault`` (None: no keyring look-up,
    e.g. secrets given on stdin). Blocking: the keyring may take a while."""
    plans = []
    for saved in store.saved_sinks(profile_id):
        spec = parse_sink_url(saved.url)
        password = None
        if vault is not None and spec.needs_secret:
            password = vault.load_sink_secret(profile_id, spec.sink_id)
        plans.append(SinkPlan(spec, password))
    return plans


def run_sink_plans(urls: Iterable[str]) -> list[SinkPlan]:
    """The sinks given to one run, as URLs (a password in one is split off and kept in
    memory); SinkUrlError for a URL that cannot be used."""
    plans = []
    for url in urls:
        clean, password = split_secret(url)
        plans.append(SinkPlan(parse_sink_url(clean), password, saved=False))
    return plans


def merge_plans(saved: list[SinkPlan], given: list[SinkPlan]) -> list[SinkPlan]:
    """One plan per destination: a sink given to the run replaces the saved one of the same
    destination (its options and password win), keeping the saved one's password if it
    brings none."""
    merged = {p.spec.sink_id: p for p in saved}
    for plan in given:
        known = merged.get(plan.spec.sink_id)
        if known is not None:
            plan = replace(plan, password=plan.password or known.password, saved=True)
        merged[plan.spec.sink_id] = plan
    return list(merged.values())


class Forwarding:
    """The forwarders of one capture. ``on_change`` hears each sink's state when it
    changes (forwarding, retrying, failed); ``lags()`` says where every sink is."""

    def __init__(
        self,
        store_path: Path,
        profile_id: int,
        plans: list[SinkPlan],
        *,
        transport: str = "cometd",
        on_change: Callable[[Lag], None] | None = None,
        **forwarder_options: Any,
    ) -> None:
        self.store_path = store_path
        self.profile_id = profile_id
        self.plans = plans
        self.transport = transport
        self.on_change = on_change
        self.forwarder_options = forwarder_options
        self.org_id: str | None = None
        self.forwarders: list[Forwarder] = []
        self._lags = {
            p.spec.sink_id: Lag(p.spec.url, SinkState.STARTING, 0, 0.0, 0, 0, WAITING)
            for p in plans
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._closers: list[Callable[[], None]] = []

    @property
    def sink_ids(self) -> list[str]:
        return [p.spec.sink_id for p in self.plans]

    @property
    def started(self) -> bool:
        return self.org_id is not None

    def lags(self) -> list[Lag]:
        return [self._lags[p.spec.sink_id] for p in self.plans]

    def failed(self) -> list[Lag]:
        """The sinks that refused events for good (their events stay in the store)."""
        return [lag for lag in self.lags() if lag.state is SinkState.FAILED]

    async def recount(self) -> None:
        """Count the backlog of the sinks no forwarder keeps current (one that failed, or
        one waiting for the first login)."""
        for sink_id, lag in list(self._lags.items()):
            if lag.state in (SinkState.FAILED, SinkState.STARTING):
                cursor, backlog = await asyncio.to_thread(
                    _backlog, self.store_path, self.profile_id, sink_id
                )
                if self._lags[sink_id].state is lag.state:  # not started meanwhile
                    seconds = 0.0
                    if backlog.oldest_received_ms is not None:
                        seconds = max(0.0, time.time() - backlog.oldest_received_ms / 1000)
                    fresh = replace(lag, events=backlog.events, seconds=seconds, cursor=cursor)
                    self._lags[sink_id] = fresh

    def start(self, org_id: str) -> None:
        """Start a forwarder per sink (once: later logins change nothing)."""
        if self.started:
            return
        self.org_id = org_id
        context = SinkContext(org_id, self.transport)
        for plan in self.plans:
            sink_id = plan.spec.sink_id
            try:
                sink = make_sink(plan.spec, context, plan.password)
            except SinkError as exc:  # the sinks extra is not installed
                self._record(
                    sink_id, replace(self._lags[sink_id], state=SinkState.FAILED, error=str(exc))
                )
                continue
            outbox = SqliteOutbox(self.store_path, self.profile_id)
            cursors = SqliteCursorStore(self.store_path, self.profile_id)
            self._closers += [outbox.close, cursors.close]
            forwarder = Forwarder(
                sink,
                outbox,
                cursors,
                sink_id,
                on_lag=functools.partial(self._record, sink_id),
                **self.forwarder_options,
            )
            self.forwarders.append(forwarder)
            self._tasks.append(asyncio.ensure_future(self._run(sink_id, forwarder)))

    def _record(self, sink_id: str, lag: Lag) -> None:
        before = self._lags.get(sink_id)
        self._lags[sink_id] = lag
        if before is None or before.state is not lag.state:
            log.info("sink %s: %s", lag.sink, lag.describe())
            if self.on_change is not None:
                self.on_change(lag)

    async def _run(self, sink_id: str, forwarder: Forwarder) -> None:
        try:
            await forwarder.run()
        except SinkError:
            pass  # refused for good: the forwarder said so and its lag says FAILED
        except Exception as exc:  # a bug must not pass for a sink that is forwarding
            log.exception("sink %s failed", forwarder.sink.name)
            failed = replace(
                forwarder.lag, state=SinkState.FAILED, error=f"{type(exc).__name__}: {exc}"
            )
            self._record(sink_id, failed)

    async def _drain(self, seconds: float) -> None:
        working = [f for f in self.forwarders if f.lag.state is SinkState.FORWARDING]
        if not working or seconds <= 0:
            return
        newest = await asyncio.to_thread(_newest_id, self.store_path, self.profile_id)
        self.nudge()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(
            f.lag.state is SinkState.FORWARDING and f.lag.cursor < newest for f in working
        ):
            await asyncio.sleep(0.05)

    def nudge(self) -> None:
        """New events were stored: every forwarder looks now."""
        for forwarder in self.forwarders:
            forwarder.nudge()

    async def stop(self, drain: float = DRAIN, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every forwarder: those forwarding first get up to ``drain`` seconds to send
        what the capture stored last; then each ends after the batch it is sending (at
        most ``timeout`` seconds). What is left is sent by the next run, from the cursor."""
        await self._drain(drain)
        for forwarder in self.forwarders:
            forwarder.stop()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=timeout)
            for task in late:
                log.warning("a sink did not finish its batch in %.0f s: left", timeout)
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for close in self._closers:
            with contextlib.suppress(Exception):
                close()
        self._closers.clear()


def _backlog(path: Path, profile_id: int, sink_id: str) -> tuple[int, Backlog]:
    cursors, outbox = SqliteCursorStore(path, profile_id), SqliteOutbox(path, profile_id)
    try:
        cursor = cursors.get(sink_id) or 0
        return cursor, outbox.backlog(cursor)
    finally:
        cursors.close()
        outbox.close()


def _newest_id(path: Path, profile_id: int) -> int:
    outbox = SqliteOutbox(path, profile_id)
    try:
        return outbox.newest_id()
    finally:
        outbox.close()
