"""The capture pipeline: a streaming client whose every event lands in the store.

``StoreWriter`` (``writer``) writes the events on one worker thread. ``Capture`` wires a
profile, its secrets, its subscriptions, a client (``clients``) and a writer together; the
headless command and the desktop app both use it, reconnect loop included. Channels whose
transport is the Pub/Sub API run beside the CometD ones through ``pubsub_link`` (same
writer, notices, gap policy and stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfmonitor.logs import register_secret
from sfmonitor.store import (
    CaptureStore,
    CredentialVault,
    Gap,
    IngestResult,
    Profile,
    ReplayState,
    Secrets,
    Subscription,
)
from sfmonitor.store.models import COMETD, PUBSUB
from sfmonitor.store.records import EventRecord
from sfmonitor.store.transports import effective_transport, transport_problem
from sfmonitor.streaming import (
    AuthenticationError,
    ChannelChange,
    ChannelStatus,
    ConnectionState,
    GapNotice,
    Notice,
    ReplayType,
    StateChange,
    StreamEvent,
    StreamingError,
)
from sfmonitor.streaming.policy import Backoff

from .clients import ReplayBook, make_client
from .forwarding import Forwarding
from .login_watch import LoginWatch
from .pubsub_link import PubSubLink
from .writer import StoreWriter

log = logging.getLogger(__name__)
YIELD_EVERY = 200  # events handled between two turns given to the event loop


# --- the capture -------------------------------------------------------------------------


@dataclass
class CaptureStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    gaps: int = 0


class CaptureError(RuntimeError):
    """The capture cannot go on: a subscribe crashed, or no channel could be subscribed."""


class Capture:
    """Captures a profile's channels into the store until ``stop()``.

    ``transport`` (``cometd`` / ``pubsub``) replaces every channel's own for this run,
    where Pub/Sub can serve the channel. ``on_record`` gets each event's store row as it
    is buffered (what an export of it will say).

    Nothing fails quietly: a subscribe that crashes ends ``run()`` with ``CaptureError``
    (a capture that says "connected" while capturing nothing is worse than one that
    stops); so does every channel being refused when ``require_channel`` is set (the
    headless command); the retention pass reports each failure through ``on_warning``.
    """

    retention_every = 60.0  # seconds between two retention passes

    def __init__(
        self,
        store: CaptureStore,
        profile: Profile,
        secrets: Secrets,
        subscriptions: list[Subscription],
        *,
        replay: str | None = None,
        transport: str | None = None,
        on_event: Callable[[StreamEvent], None] | None = None,
        on_record: Callable[[EventRecord], None] | None = None,
        on_notice: Callable[[Notice], None] | None = None,
        on_written: Callable[[IngestResult], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        require_channel: bool = False,
        client_options: dict[str, Any] | None = None,
        vault: CredentialVault | None = None,
        on_identity: Callable[[Profile], None] | None = None,
        forwarding: Forwarding | None = None,
    ) -> None:
        if profile.id is None:
            raise ValueError("save the profile before capturing")
        if transport is not None and (problem := transport_problem(transport)):
            raise ValueError(problem)
        self.store = store
        self.profile = profile
        self.profile_id = profile.id
        self.subscriptions = [s for s in subscriptions if s.enabled]
        # the stored replay state is read when the run starts, on the writer's thread
        self.book = ReplayBook({}, {s.channel: s.replay_policy for s in self.subscriptions}, replay)
        self.on_event = on_event
        self.on_record = on_record
        self.on_notice = on_notice
        self.on_warning = on_warning
        self.require_channel = require_channel
        self.forwarding = forwarding  # the sinks: forwarded from the store, never waited for
        self.retention_held = 0  # events past the limits that the sinks made retention keep
        self.stats = CaptureStats()
        self.writer = StoreWriter(store, profile.id, on_written=self._written(on_written))
        register_secret(*secrets.values())  # masked in every log record from now on
        # who and where the login is (asked once per run) and a rotated refresh token
        self.login = LoginWatch(store, profile, secrets, vault, on_identity, self._warn)
        self.client = make_client(
            profile, secrets, self.book, on_rotate=self.login.rotated, **(client_options or {})
        )
        self.client.add_listener(self._notice)
        self._pending: set[asyncio.Future[Any]] = set()
        self.channels = {s.channel for s in self.subscriptions}
        self.forced_transport = transport  # this run's --transport
        self.transports = {s.channel: self.transport_of(s) for s in self.subscriptions}
        self.pubsub = PubSubLink(self, {c for c, t in self.transports.items() if t == PUBSUB})
        self._refused: dict[str, str] = {}  # channel -> the server's words
        self._fatal: BaseException | None = None
        self._stop_requested = False
        self._stopping = asyncio.Event()
        self._backoff = Backoff(base=1.0, cap=60.0)
        # channel -> epoch seconds: while replaying, events created earlier are not kept
        self.replay_cutoffs: dict[str, float] = {}

    def _written(
        self, then: Callable[[IngestResult], None] | None
    ) -> Callable[[IngestResult], None]:
        def written(result: IngestResult) -> None:
            self.stats.stored += result.stored
            self.stats.duplicates += result.duplicates
            if self.forwarding is not None and result.stored:
                self.forwarding.nudge()
            if then is not None:
                then(result)

        return written

    def transport_of(self, sub: Subscription) -> str:
        """The transport of ``sub`` in this run (see ``store.transports``)."""
        if self.forced_transport:
            return effective_transport(sub.channel, "", self.forced_transport)
        return effective_transport(sub.channel, sub.transport, self.profile.transport)

    def _warn(self, text: str) -> None:
        log.warning("capture: %s", text)
        if self.on_warning is not None:
            self.on_warning(text)

    def _fail(self, exc: BaseException) -> None:
        """End the run with ``exc`` (the first fatal problem wins)."""
        if self._fatal is None:
            self._fatal = exc
            log.error("capture: %s", exc)
            self._spawn(self.client.ask_stop())

    def _notice(self, notice: Notice) -> None:
        if isinstance(notice, GapNotice):
            self.stats.gaps += 1
            gap = Gap(
                notice.channel,
                int(notice.at * 1000),
                notice.stored_replay_id,
                notice.action,
                notice.server_text,
            )
            self._spawn(self.writer.call(self.store.record_gap, self.profile_id, gap))
        elif isinstance(notice, ChannelChange):
            self._channel_changed(notice)
        if self.on_notice is not None:
            self.on_notice(notice)

    def _channel_changed(self, notice: ChannelChange) -> None:
        if notice.status is ChannelStatus.ERROR:
            self._refused[notice.channel] = notice.error
            if self.require_channel and self.channels and self.channels <= set(self._refused):
                refused = "; ".join(f"{ch}: {self._refused[ch]}" for ch in sorted(self.channels))
                self._fail(CaptureError(f"no channel could be subscribed ({refused})"))
        elif notice.status is ChannelStatus.LIVE:
            self._refused.pop(notice.channel, None)
            if notice.channel in self.book.started_new:
                self.book.started_new.discard(notice.channel)
                self._spawn(
                    self.writer.call(
                        self.store.mark_live_since,
                        self.profile_id,
                        notice.channel,
                        int(notice.at * 1000),
                    )
                )

    def _spawn(
        self, coro: Any, on_done: Callable[[asyncio.Future[Any]], None] | None = None
    ) -> None:
        task: asyncio.Future[Any] = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        if on_done is not None:
            task.add_done_callback(on_done)

    def _subscribe_task(self, channel: str, replay: int | None) -> None:
        """Subscribe in the background; a subscribe that crashes ends the capture."""

        def done(task: asyncio.Future[Any]) -> None:
            if task.cancelled() or task.exception() is None:
                return
            exc = task.exception()
            if isinstance(exc, StreamingError):  # the client failed: run() ends with it
                log.warning("capture: subscribing to %s: %s", channel, exc)
            else:
                self._fail(CaptureError(f"subscribing to {channel} failed: {exc}"))

        self._spawn(self.client.subscribe(channel, replay), done)

    async def subscribe(self, channel: str, replay: int | None = None) -> None:
        """Subscribe to ``channel``. A channel (re)added while capturing starts from the
        book (its policy once removed, see ``unsubscribe``), never from where the client
        last saw it."""
        if replay is None and channel not in self.client.subscriptions:
            point = self.book.resume_point(channel)
            replay = point if isinstance(point, int) else None
        self.channels.add(channel)
        await self.client.subscribe(channel, replay)

    async def add_channel(self, sub: Subscription, since_ms: int | None = None) -> None:
        """A channel added (again) while capturing: it starts from ``sub.replay_policy``
        (the user's choice wins over where an earlier subscription of it stopped), or
        from a time (``since_ms``: every retained event, those created earlier dropped,
        as the store's ``mark_live_since`` makes it after a restart), on its transport
        (leaving the other one if it was there)."""
        transport = self.transport_of(sub)
        if self.transports.get(sub.channel, transport) != transport:
            await self.unsubscribe(sub.channel)
        self.transports[sub.channel] = transport
        self.book.set_policy(sub.channel, sub.replay_policy)
        if transport == PUBSUB:
            self.channels.add(sub.channel)
            await self.pubsub.add(sub.channel, since_ms)
        else:
            if since_ms is not None:
                self.book.states[sub.channel] = ReplayState(sub.channel, None, None, since_ms)
            await self.subscribe(sub.channel)

    async def unsubscribe(self, channel: str) -> None:
        self.book.forget(channel)
        self.channels.discard(channel)
        self._refused.pop(channel, None)
        if self.transports.pop(channel, COMETD) == PUBSUB:
            await self.pubsub.remove(channel)
        else:
            await self.client.unsubscribe(channel)

    async def replay(self, channels: list[str], since: float) -> dict[str, str]:
        """Every retained event of ``channels`` again (``-2``), keeping those created at
        or after ``since`` (epoch seconds); those already captured are dropped by the
        store's unique key. A second subscribe in the same CometD session is a no-op on
        the server, so each channel is left, then subscribed again with -2 (events in
        between are retained, so they come too). The channels the server refused, with
        its words."""
        for channel in channels:
            self.replay_cutoffs[channel] = since
        for channel in [c for c in channels if self.transports.get(c) == PUBSUB]:
            await self.pubsub.replay(channel)  # refusals come as channel notices
        channels = [c for c in channels if self.transports.get(c) != PUBSUB]
        results = await asyncio.gather(
            *(self._resubscribe_all(channel) for channel in channels), return_exceptions=True
        )
        refused: dict[str, str] = {}
        for channel, result in zip(channels, results, strict=True):
            if isinstance(result, StreamingError):
                refused[channel] = str(result)
            elif isinstance(result, BaseException):
                raise result
            elif result:
                refused[channel] = result
        return refused

    async def _resubscribe_all(self, channel: str) -> str:
        """Leave ``channel`` and subscribe again with -2; the server's refusal, or ""."""
        with contextlib.suppress(StreamingError):
            await self.client.unsubscribe(channel)
        self.channels.add(channel)
        replies = await self.client.subscribe(channel, int(ReplayType.ALL_EVENTS))
        failed = [r for r in replies if r.get("successful") is False]
        return str(failed[0].get("error") or "refused") if failed else ""

    @property
    def org_id(self) -> str | None:
        """The org of the last login (the sinks put it in every record)."""
        org_id = getattr(self.client, "org_id", None)  # the token response's identity URL
        if isinstance(org_id, str) and org_id:
            return org_id
        return self.profile.org.org_id or None  # what the org said at an earlier login

    async def run(self) -> None:
        """Start, subscribe, and store every event until ``stop()``; raises on fatal errors
        (refused credentials, the store failing, ``CaptureError``). An org that cannot be
        reached (at the first login too) is tried again with backoff, announced as
        RECONNECTING with its delay: the window and the headless command behave alike.
        The sinks are forwarded to from the first login until the capture ends."""
        writer = self.writer
        writer.start(on_failed=lambda: self._spawn(self.client.ask_stop()))
        retention: asyncio.Task[None] | None = None
        try:
            states = await writer.call(self.store.replay_states, self.profile_id)
            self.book.states = {c: s for c, s in states.items() if s.transport == COMETD}
            if self.pubsub.channels:
                self.pubsub.start(states)
            if self.profile.keep_events is not None or self.profile.keep_days is not None:
                retention = asyncio.ensure_future(self._retention())
            while not self._stop_requested:
                try:
                    await self._session()
                    break
                except AuthenticationError:
                    raise
                except StreamingError as exc:
                    if self._stop_requested or self._fatal is not None:
                        break
                    await self._retry_later(exc)
        finally:
            if retention is not None:
                retention.cancel()
                await asyncio.gather(retention, return_exceptions=True)
            await self.pubsub.close()  # streams and gRPC channel closed before the loop ends
            await self.login.close()
            await self.client.stop()
            for task in list(self._pending):
                try:
                    await task
                except Exception as exc:  # a subscribe refused, a marker not written
                    log.warning("capture: %s", exc)
            try:
                await writer.close()
            finally:
                if self.forwarding is not None:
                    await self.forwarding.stop()
        if self._fatal is not None:
            raise self._fatal

    async def _session(self) -> None:
        """One client session: log in, subscribe every channel, store until it ends."""
        await self.client.start()
        if self._stop_requested:  # stop() came while logging in: start() forgot it
            return
        self.login.logged_in(self.client, self.writer)
        self._backoff.reset()
        self._start_forwarding()
        for channel in sorted(self.channels):
            if self.transports.get(channel, COMETD) == COMETD:
                self._subscribe_task(channel, None)
        await self._consume()

    def _start_forwarding(self) -> None:
        forwarding = self.forwarding
        if forwarding is None or forwarding.started:
            return
        if self.org_id is None:
            self._warn("the login did not say which org this is (no id URL): sinks wait")
        else:
            forwarding.start(self.org_id)

    async def _retry_later(self, exc: StreamingError) -> None:
        """The org could not be reached, or the client gave up: a new session after a
        backoff (cut short by ``stop()``)."""
        await self.client.stop()
        self.book.override = None  # an asked-for replay applies to the first session only
        delay = self._backoff.next()
        log.warning("capture: %s; trying again in %.1f s", exc, delay)
        self._notice(StateChange(ConnectionState.RECONNECTING, str(exc), delay))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _consume(self) -> None:
        """Hand every event to the writer (and ``on_event``) as it comes."""
        writer, book = self.writer, self.book
        on_event, on_record = self.on_event, self.on_record
        cutoffs = self.replay_cutoffs
        async for message in self.client.events():
            event = StreamEvent.from_message(message)
            self.stats.received += 1
            if not self.stats.received % YIELD_EVERY:
                # A queue that already holds replies never suspends the iteration: give
                # the loop (and the UI sharing it) a turn now and then.
                await asyncio.sleep(0)
            if cutoffs and event.created_at.timestamp() < cutoffs.get(event.channel, 0.0):
                continue
            record = writer.add(event)
            if event.replay_id is not None:
                book.received(event.channel, event.replay_id)
            if on_event is not None:
                on_event(event)
            if on_record is not None:
                on_record(record)
            await writer.wait_room()

    async def _retention(self) -> None:
        """Apply the profile's retention now and then, on the writer's thread (in small
        transactions, so ingest is held up for milliseconds at most). A setting that is
        nonsense is reported and never applied; any other failure is reported and tried
        again at the next pass: the task never ends silently."""
        sinks = self.forwarding.sink_ids if self.forwarding is not None else []
        while True:
            try:
                result = await self.writer.call(self.store.retention, self.profile, sinks)
            except ValueError as exc:
                self._warn(str(exc))
                return
            except Exception as exc:
                self._warn(
                    f"retention failed ({exc}); trying again in {self.retention_every:.0f} s"
                )
            else:
                if result.deleted:
                    log.info("retention: %d old events deleted", result.deleted)
                self._held(result.held, result.held_by)
            await asyncio.sleep(self.retention_every)

    def _held(self, held: int, by: tuple[str, ...]) -> None:
        """Say when the sinks start holding retention back, and when they stop."""
        if held and not self.retention_held:
            self._warn(
                f"retention held back: {held:,} event(s) past the profile's limits are kept "
                f"until {', '.join(by)} acknowledge(s) them"
            )
        elif not held and self.retention_held and self.on_warning is not None:
            self.on_warning("retention goes on: the sinks have acknowledged what it held back")
        self.retention_held = held

    async def stop(self) -> None:
        """End ``run()`` promptly; everything received is written before it returns."""
        self._stop_requested = True
        self._stopping.set()
        await self.client.ask_stop()
