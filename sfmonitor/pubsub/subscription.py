"""One ``Subscribe`` stream per topic, kept alive: flow control, keepalives, a watchdog,
and the reaction to each error (reference pubsub.md §1.3-1.4, §1.10).

Flow control: at most ``batch`` (100) events are outstanding; more are asked for as soon as
half have arrived, before the count reaches 0, and always within ``credit_deadline`` of it
reaching 0 (Salesforce closes a stream left without credit for 60 s). The resume point is
the replay id of the last event handed to the listener, or the ``latest_replay_id`` of a
keepalive (the listener hears about that through ``on_position``).

Subscribe has no acknowledgement: a stream is live once it has answered, or has stood
``accept_wait`` seconds without being refused (refusals come at once). A topic started
with LATEST that has received nothing yet has no replay id to resume from; a new stream
then replays from EARLIEST and drops events created before the first one opened (less
``clock_skew``), as the CometD client does with -2, so an outage loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import grpc
import grpc.aio

from sfmonitor.streaming.errors import AuthenticationError
from sfmonitor.streaming.policy import Backoff
from sfmonitor.streaming.state import ChannelChange, ChannelStatus, GapNotice, Notice

from .errors import PubSubError, Reaction
from .events import PubSubEvent, build_event
from .proto import pubsub_api_pb2 as pb
from .replay import Preset, ReplayFrom, replay_value, show_replay

if TYPE_CHECKING:
    from .connection import PubSubConnection

STALE_REPLAY_ACTIONS = ("replay_all", "new_only", "fail")


class SubscriptionListener(Protocol):
    """Where a subscription's output goes (the capture joins it to the store later)."""

    async def on_events(self, topic: str, events: Sequence[PubSubEvent]) -> None:
        """A batch, in order. The next batch is read only after this returns."""
        ...

    def on_position(self, topic: str, replay_id: bytes) -> None:
        """A keepalive moved the resume point with no event (store it as the position)."""
        ...

    def on_notice(self, notice: Notice) -> None:
        """Status changes, retries, gaps: the same notice types as the CometD client."""
        ...


@dataclass
class SubscribeSettings:
    batch: int = 100  # events outstanding at most (the API's maximum)
    refill_at: int = 50  # ask for more when this few are still owed
    credit_deadline: float = 50.0  # ask again this long after credit ran out (server: 60 s)
    idle_timeout: float = 300.0  # watchdog: a stream silent this long is torn down
    stale_replay: str = "replay_all"  # corrupted/too-old replay id: EARLIEST, LATEST or stop
    backoff_base: float = 0.5
    backoff_cap: float = 60.0
    max_auth_refreshes: int = 3  # consecutive refused tokens before the topic stops
    accept_wait: float = 1.0  # a stream not refused this long after opening is live
    clock_skew: float = 120.0  # margin when dropping events older than a "new only" start

    def __post_init__(self) -> None:
        if not 1 <= self.batch <= 100:
            raise ValueError("batch must be between 1 and 100")
        if self.stale_replay not in STALE_REPLAY_ACTIONS:
            raise ValueError(f"stale_replay must be one of {', '.join(STALE_REPLAY_ACTIONS)}")


class StreamStalled(Exception):
    """Nothing (not even a keepalive) arrived within the idle timeout."""


class TopicSubscription:
    """The task that keeps one topic subscribed; never more than one stream at a time."""

    def __init__(
        self,
        conn: PubSubConnection,
        topic: str,
        listener: SubscriptionListener,
        start: ReplayFrom,
        settings: SubscribeSettings,
    ) -> None:
        self.conn = conn
        self.topic = topic
        self.listener = listener
        self.start_at = start
        self.settings = settings
        self.resume: bytes | None = start.replay_id if start.preset is Preset.CUSTOM else None
        # went live with "new events only" at (epoch s) and received nothing since
        self.live_since: float | None = start.since
        self._cutoff: float | None = None  # this stream drops events created before
        self.status = ChannelStatus.SUBSCRIBING
        self.error = ""
        self.received = 0
        self.streams = 0
        self._task: asyncio.Task[None] | None = None
        self._backoff = Backoff(settings.backoff_base, settings.backoff_cap)
        self._auth_refused = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name=f"pubsub {self.topic}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.status is not ChannelStatus.ERROR:
            self._set(ChannelStatus.UNSUBSCRIBED)

    async def wait(self) -> None:
        """Until the subscription has stopped by itself (an error it cannot repair)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    def _set(self, status: ChannelStatus, error: str = "") -> None:
        self.status, self.error = status, error
        at = self.live_since if status is ChannelStatus.LIVE and self.live_since else time.time()
        self.listener.on_notice(ChannelChange(self.topic, status, error, at))

    # --- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        self._set(ChannelStatus.SUBSCRIBING)
        while True:
            try:
                reason = await self._stream_once()
            except StreamStalled:
                reason = f"no message for {self.settings.idle_timeout:g} s: stream torn down"
            except PubSubError as error:
                verdict = await self._react(error)
                if verdict is None:
                    return
                if not verdict:
                    continue  # repaired (new token, new start): resubscribe at once
                reason = verdict
            delay = self._backoff.next()
            self._set(ChannelStatus.SUBSCRIBING, f"{reason}; resubscribing in {delay:.1f} s")
            await asyncio.sleep(delay)

    async def _react(self, error: PubSubError) -> str | None:
        """Handle an error: None when the topic stops, "" to resubscribe at once, else
        why to resubscribe after a backoff."""
        reaction = error.reaction
        if reaction is Reaction.REFRESH_AUTH:
            self._auth_refused += 1
            if self._auth_refused > self.settings.max_auth_refreshes:
                self._set(ChannelStatus.ERROR, error.describe())
                return None
            try:
                await self.conn.refresh_auth()
            except (AuthenticationError, PermissionError) as exc:
                self._set(ChannelStatus.ERROR, f"{error.describe()}; refresh failed: {exc}")
                return None
            except Exception as exc:  # the login could not be reached: try again later
                return f"{error.describe()}; new token not fetched ({exc})"
            return ""
        if reaction is Reaction.GAP:
            return "" if self._gap(error) else None
        if reaction is Reaction.STOP:
            self._set(ChannelStatus.ERROR, error.describe())
            return None
        return error.describe()

    def _gap(self, error: PubSubError) -> bool:
        action = self.settings.stale_replay
        stored = self.resume or self.start_at.replay_id
        value = replay_value(stored) if stored else None
        self.listener.on_notice(
            GapNotice(self.topic, value if value is not None else -1, error.describe(), action)
        )
        if action == "fail":
            self._set(ChannelStatus.ERROR, error.describe())
            return False
        self.resume = None
        self.live_since = None
        self.start_at = ReplayFrom.earliest() if action == "replay_all" else ReplayFrom.latest()
        return True

    def _first_request(self) -> Any:
        self._cutoff = None
        if self.resume:
            preset, replay = Preset.CUSTOM, self.resume
        elif self.live_since is not None:  # live from LATEST, nothing received yet
            preset, replay = Preset.EARLIEST, b""
            self._cutoff = self.live_since - self.settings.clock_skew
        else:
            preset, replay = self.start_at.preset, self.start_at.replay_id
            if preset is Preset.LATEST:
                self.live_since = time.time()
        return pb.FetchRequest(
            topic_name=self.topic,
            replay_preset=preset.name,
            replay_id=replay,
            num_requested=self.settings.batch,
        )

    async def _stream_once(self) -> str:
        """One stream, until it ends; returns why it ended normally, raises otherwise."""
        call = self.conn.open_stream()
        self.streams += 1
        reader: asyncio.Future[Any] | None = None
        loop = asyncio.get_running_loop()
        try:
            await call.write(self._first_request())
            credit = _Credit(self.settings, loop.time())
            last_seen = loop.time()
            reader = asyncio.ensure_future(call.read())
            done, _ = await asyncio.wait({reader}, timeout=self.settings.accept_wait)
            if not done and self.status is not ChannelStatus.LIVE:
                self._set(ChannelStatus.LIVE)  # not refused: accepted
            while True:
                if reader is None:
                    reader = asyncio.ensure_future(call.read())
                timeout = credit.wait_limit(loop.time(), last_seen + self.settings.idle_timeout)
                done, _ = await asyncio.wait({reader}, timeout=timeout)
                now = loop.time()
                if not done:
                    if now - last_seen >= self.settings.idle_timeout:
                        raise StreamStalled()
                    await self._ask(call, credit, now)  # credit ran out too long ago
                    continue
                response, reader = reader.result(), None
                if response is grpc.aio.EOF:
                    return "the server closed the stream"
                last_seen = now
                await self._handle(call, credit, response, now)
        except grpc.aio.AioRpcError as exc:
            raise PubSubError.from_rpc_error(exc) from None
        finally:
            if reader is not None:
                reader.cancel()
            call.cancel()

    async def _ask(self, call: Any, credit: _Credit, now: float) -> None:
        want = credit.top_up(now)
        if want:
            await call.write(pb.FetchRequest(topic_name=self.topic, num_requested=want))

    async def _handle(self, call: Any, credit: _Credit, response: Any, now: float) -> None:
        if self.status is not ChannelStatus.LIVE:
            self._set(ChannelStatus.LIVE)
        self._auth_refused = 0
        events = response.events
        credit.received(len(events))
        if credit.should_refill():
            await self._ask(call, credit, now)  # before processing: the server keeps sending
        if not events:
            latest = bytes(response.latest_replay_id)
            if latest and latest != self.resume:
                self._moved(latest)
            return
        batch = await self._decode(events)
        kept = self._after_live_since(batch)
        if kept:
            await self.listener.on_events(self.topic, kept)
            self.resume = batch[-1].replay_id
            self.live_since = None
        else:  # only events older than a "new only" start: the position moves
            self._moved(batch[-1].replay_id)
        self.received += len(kept)
        self._backoff.reset()

    def _moved(self, replay_id: bytes) -> None:
        self.resume = replay_id
        self.live_since = None
        self.listener.on_position(self.topic, replay_id)

    def _after_live_since(self, batch: list[PubSubEvent]) -> list[PubSubEvent]:
        """While this stream replays from EARLIEST for a topic live since ``live_since``:
        only the events created after it (less the skew margin)."""
        cutoff = self._cutoff
        if cutoff is None:
            return batch
        kept = [e for e in batch if e.event.created_at.timestamp() >= cutoff]
        if kept:
            self._cutoff = None  # caught up: later events are all newer
        return kept

    async def _decode(self, events: Sequence[Any]) -> list[PubSubEvent]:
        received_at = datetime.now(UTC)
        cache = self.conn.schemas
        out = []
        for consumer in events:
            produced = consumer.event
            schema = cache.cached(produced.schema_id) or await cache.get(produced.schema_id)
            out.append(
                build_event(
                    self.topic,
                    schema,
                    produced.payload,
                    consumer.replay_id,
                    produced.id,
                    received_at,
                )
            )
        return out

    def __repr__(self) -> str:
        resume = show_replay(self.resume) if self.resume else "-"
        return f"<TopicSubscription {self.topic} {self.status} resume={resume}>"


class _Credit:
    """The client's own count of events asked for and not yet received."""

    def __init__(self, settings: SubscribeSettings, now: float) -> None:
        self.settings = settings
        self.owed = settings.batch  # the first request asks for a full batch
        self.empty_since: float | None = None

    def received(self, n: int) -> None:
        self.owed = max(0, self.owed - n)

    def should_refill(self) -> bool:
        return self.owed <= self.settings.refill_at

    def top_up(self, now: float) -> int:
        want = self.settings.batch - self.owed
        self.owed += want
        self.empty_since = None
        return want

    def wait_limit(self, now: float, idle_deadline: float) -> float:
        limit = idle_deadline - now
        if self.owed == 0:
            if self.empty_since is None:
                self.empty_since = now
            limit = min(limit, self.empty_since + self.settings.credit_deadline - now)
        return max(limit, 0.0)
