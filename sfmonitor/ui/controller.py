"""``MonitorController``: the window's link to the capture pipeline and the store.

It runs one ``Capture`` as a task on the qasync loop and turns its notices into Qt signals;
widgets never touch the client. All store writes it makes run off the Qt thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal

from sfmonitor.store import (
    Capture,
    CaptureStore,
    IngestResult,
    Profile,
    Secrets,
    StoreWriteError,
    Subscription,
)
from sfmonitor.streaming import (
    AuthenticationError,
    ChannelChange,
    ConnectionState,
    GapNotice,
    Notice,
    ReplayType,
    StateChange,
    StreamEvent,
    StreamingError,
)

from .worker import Worker

log = logging.getLogger(__name__)
REPLAY_WINDOW = 24 * 3600.0  # "Replay last 24 hours"


class MonitorController(QObject):
    """Connect, subscribe, replay; reports through signals (always on the Qt thread)."""

    connection_changed = Signal(str, str)  # state, a sentence for the status bar
    channel_changed = Signal(str, str, str)  # channel, status, server error text
    events_stored = Signal(int)  # rows added to the store by the last batch
    gap_recorded = Signal(str, str)  # channel, what happened
    server_error = Signal(str)  # the last error, verbatim
    replay_progress = Signal(str)  # "Replaying /topic/X: 1,234 events"

    def __init__(self, store: CaptureStore, worker: Worker) -> None:
        super().__init__()
        self.store = store
        self.worker = worker
        self.profile: Profile | None = None
        self.capture: Capture | None = None
        self._task: asyncio.Task[None] | None = None
        self.state = ConnectionState.STOPPED
        self.received = 0
        self.stored_total = 0
        self._recent: deque[tuple[float, int]] = deque(maxlen=5)
        self._replaying: dict[str, int] = {}
        self._rate_timer = QTimer(self)
        self._rate_timer.setInterval(1000)
        self._rate_timer.timeout.connect(self._sample_rate)
        self._rate_timer.start()
        self.rate = 0.0

    # --- connection ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._task is not None and not self._task.done()

    async def connect_profile(self, profile: Profile, secrets: Secrets) -> None:
        """Start capturing ``profile`` (disconnecting another one first)."""
        await self.disconnect_profile()
        assert profile.id is not None
        self.profile = profile
        subs = await self.worker.run(self.store.subscriptions, profile.id)
        capture = Capture(
            self.store,
            profile,
            secrets,
            subs,
            on_event=self._on_event,
            on_notice=self._on_notice,
            on_written=self._on_written,
        )
        self.capture = capture
        self.connection_changed.emit("connecting", f"Connecting to {profile.login_url}…")
        self._task = asyncio.ensure_future(self._run(capture))

    async def _run(self, capture: Capture) -> None:
        try:
            await capture.run()
        except AuthenticationError as exc:
            self._failed(f"login refused: {exc}")
        except StoreWriteError as exc:
            self._failed(str(exc))
        except StreamingError as exc:
            self._failed(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave the window thinking it is live
            log.exception("capture failed")
            self._failed(f"{type(exc).__name__}: {exc}")
        else:
            self.state = ConnectionState.STOPPED
            self.connection_changed.emit("stopped", "Disconnected")

    def _failed(self, reason: str) -> None:
        self.state = ConnectionState.FAILED
        self.server_error.emit(reason)
        self.connection_changed.emit("failed", f"Failed: {reason}")

    async def disconnect_profile(self) -> None:
        capture, task = self.capture, self._task
        if capture is None or task is None:
            return
        await capture.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 15)
        self.capture = None
        self._task = None

    # --- channels --------------------------------------------------------------------------

    async def add_channel(self, channel: str, replay_policy: str = "new") -> None:
        profile = self._profile()
        assert profile.id is not None
        await self.worker.run(
            self.store.set_subscription, profile.id, Subscription(channel, True, replay_policy)
        )
        if self.capture is not None and self.connected:
            self.capture.book.policies[channel] = replay_policy
            await self._subscribe(channel, None)

    async def remove_channel(self, channel: str, delete_events: bool) -> None:
        profile = self._profile()
        assert profile.id is not None
        if self.capture is not None and self.connected:
            with contextlib.suppress(StreamingError):
                await self.capture.unsubscribe(channel)
        await self.worker.run(self.store.remove_subscription, profile.id, channel, delete_events)

    async def replay_last_24h(self, channels: list[str]) -> None:
        """Re-subscribe with ALL_EVENTS; events older than 24 h are not kept, those already
        captured are dropped by the store's unique key."""
        capture = self.capture
        if capture is None or not self.connected:
            raise StreamingError("connect first")
        since = time.time() - REPLAY_WINDOW
        for channel in channels:
            capture.replay_cutoffs[channel] = since
            self._replaying[channel] = 0
            self.replay_progress.emit(f"Replaying {channel}…")
        await asyncio.gather(*(self._resubscribe_all_events(ch) for ch in channels))

    async def _resubscribe_all_events(self, channel: str) -> None:
        # A second subscribe in the same CometD session is a no-op on the server: leave the
        # channel, then come back with -2. Events in between are retained, so they come too.
        assert self.capture is not None
        with contextlib.suppress(StreamingError):
            await self.capture.unsubscribe(channel)
        await self._subscribe(channel, int(ReplayType.ALL_EVENTS))

    async def _subscribe(self, channel: str, replay: int | None) -> None:
        assert self.capture is not None
        try:
            await self.capture.subscribe(channel, replay)
        except StreamingError as exc:
            self.channel_changed.emit(channel, "error", str(exc))

    def _profile(self) -> Profile:
        if self.profile is None:
            raise StreamingError("no profile is open")
        return self.profile

    # --- from the capture (on the loop, i.e. the Qt thread) --------------------------------

    def _on_event(self, event: StreamEvent) -> None:
        self.received += 1
        if event.channel in self._replaying:
            count = self._replaying[event.channel] = self._replaying[event.channel] + 1
            if count % 500 == 0:
                self.replay_progress.emit(f"Replaying {event.channel}: {count:,} events")

    def _on_written(self, result: IngestResult) -> None:
        self.stored_total += result.stored
        if result.stored:
            self.events_stored.emit(result.stored)

    def _on_notice(self, notice: Notice) -> None:
        if isinstance(notice, StateChange):
            self.state = notice.state
            if notice.state is ConnectionState.RECONNECTING:
                delay = f" in {notice.delay:.0f} s" if notice.delay else ""
                self.connection_changed.emit(
                    "reconnecting", f"Reconnecting{delay}: {notice.reason}"
                )
                self.server_error.emit(notice.reason)
            elif notice.state is ConnectionState.CONNECTED:
                self.connection_changed.emit("live", "Live")
            elif notice.state is ConnectionState.FAILED:
                self.connection_changed.emit("failed", f"Failed: {notice.reason}")
                self.server_error.emit(notice.reason)
        elif isinstance(notice, ChannelChange):
            if notice.status.value == "live" and notice.channel in self._replaying:
                count = self._replaying.pop(notice.channel)
                self.replay_progress.emit(
                    f"Replay of {notice.channel} requested ({count:,} so far)"
                )
            self.channel_changed.emit(notice.channel, notice.status.value, notice.error)
            if notice.error:
                self.server_error.emit(f"{notice.channel}: {notice.error}")
        elif isinstance(notice, GapNotice):
            text = f"replay id {notice.stored_replay_id} could not be served: {notice.server_text}"
            self.gap_recorded.emit(notice.channel, text)

    def _sample_rate(self) -> None:
        """Events per second over the last few seconds (sampled once a second)."""
        self._recent.append((time.monotonic(), self.received))
        (t0, c0), (t1, c1) = self._recent[0], self._recent[-1]
        self.rate = (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
