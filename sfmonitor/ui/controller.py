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

from sfmonitor.capture import Capture, Forwarding, StoreWriteError, saved_sink_plans
from sfmonitor.sinks import Lag, SinkState, SinkUrlError
from sfmonitor.store import (
    CaptureStore,
    CredentialVault,
    IngestResult,
    KeyringUnavailableError,
    Profile,
    Secrets,
    Subscription,
)
from sfmonitor.store.transports import effective_transport
from sfmonitor.streaming import (
    AuthenticationError,
    ChannelChange,
    ChannelStatus,
    ConnectionState,
    GapNotice,
    Notice,
    StateChange,
    StreamEvent,
    StreamingError,
)

from .login_words import refusal_text
from .replay_progress import ReplayProgress
from .worker import Worker

log = logging.getLogger(__name__)
REPLAY_WINDOW = 24 * 3600.0  # "Replay last 24 hours"
CONNECTION = ""  # the source of connection-wide problems (channels use their own name)
SINKS = "sinks"  # the source of problems with the sinks as a whole (each sink: its own)


class MonitorController(QObject):
    """Connect, subscribe, replay; reports through signals (always on the Qt thread)."""

    # state (a ConnectionState value), a few words for the status bar, seconds to the retry
    state_changed = Signal(str, str, float)
    problem = Signal(str, str)  # source (CONNECTION or a channel), the server's words
    channel_changed = Signal(str, str, str)  # channel, status, server error text
    events_stored = Signal(int)  # rows added to the store by the last batch
    gap_recorded = Signal(str, str)  # channel, what happened
    activity = Signal(str)  # what a long action is doing ("" when it has ended)
    identity_known = Signal(object)  # the Profile, with who and where its org said it is

    def __init__(
        self, store: CaptureStore, worker: Worker, vault: CredentialVault | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.worker = worker
        self.vault = vault  # where a rotated refresh token goes back; the sinks' passwords
        self.profile: Profile | None = None
        self.capture: Capture | None = None
        self._secrets: Secrets | None = None  # in memory only, to reconnect on request
        self._task: asyncio.Task[None] | None = None
        self.state = ConnectionState.STOPPED
        self.state_text = "Not connected"
        self._retry_at = 0.0  # monotonic time of the next attempt (0: none planned)
        self.received = 0
        self._recent: deque[tuple[float, int]] = deque(maxlen=5)
        self.replay: ReplayProgress | None = None
        self._rate_timer = QTimer(self)
        self._rate_timer.setInterval(1000)
        self._rate_timer.timeout.connect(self._sample_rate)
        self._rate_timer.start()
        self._replay_timer = QTimer(self)
        self._replay_timer.setInterval(250)
        self._replay_timer.timeout.connect(self._replay_tick)
        self.rate = 0.0

    # --- connection ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """A capture is running (live, connecting or reconnecting)."""
        running = self._task is not None and not self._task.done()
        return running and self.state not in (ConnectionState.STOPPED, ConnectionState.FAILED)

    @property
    def live(self) -> bool:
        return self.connected and self.state is ConnectionState.CONNECTED

    async def connect_profile(self, profile: Profile, secrets: Secrets) -> None:
        """Start capturing ``profile`` (disconnecting another one first)."""
        await self.disconnect_profile()
        assert profile.id is not None
        self.profile = profile
        self._secrets = secrets
        subs = await self.worker.run(self.store.subscriptions, profile.id)
        capture = Capture(
            self.store,
            profile,
            secrets,
            subs,
            on_event=self._on_event,
            on_notice=self._on_notice,
            on_written=self._on_written,
            vault=self.vault,
            on_identity=self._on_identity,
            on_warning=self.activity.emit,
            forwarding=await self._forwarding(profile.id),
        )
        self.capture = capture
        self._set_state(ConnectionState.CONNECTING, "Connecting…")
        self._task = asyncio.ensure_future(self._run(capture))

    async def _forwarding(self, profile_id: int) -> Forwarding | None:
        """The profile's saved sinks: they run wherever the profile is captured (see
        ``sinks_status``). Without the keyring their passwords are missing: said, and the
        sinks that can do without (NDJSON, PostgreSQL with ~/.pgpass) still run."""
        try:
            plans = await self.worker.run(saved_sink_plans, self.store, self.vault, profile_id)
        except KeyringUnavailableError as exc:
            self.problem.emit(SINKS, f"the sinks' passwords could not be read: {exc}")
            plans = await self.worker.run(saved_sink_plans, self.store, None, profile_id)
        except SinkUrlError as exc:  # a saved URL this version cannot read
            self.problem.emit(SINKS, str(exc))
            return None
        if not plans:
            return None
        return Forwarding(self.store.path, profile_id, plans, on_change=self._sink_changed)

    def _sink_changed(self, lag: Lag) -> None:
        """A sink retried or stopped is a problem of its own, gone once it forwards."""
        source = f"sink {lag.sink}"
        if lag.state is SinkState.RETRYING:
            self.problem.emit(source, f"{lag.problem}; trying again")
        elif lag.state is SinkState.FAILED:
            self.problem.emit(source, f"stopped: {lag.problem}; its events stay in the store")
        elif lag.state is SinkState.FORWARDING:
            self.problem.emit(source, "")

    async def reconnect_now(self) -> None:
        """Skip the wait: a new session at once, resuming from the stored replay ids."""
        if self.profile is not None and self._secrets is not None:
            await self.connect_profile(self.profile, self._secrets)

    async def _run(self, capture: Capture) -> None:
        try:
            await capture.run()
        except AuthenticationError as exc:
            self._failed("Login failed", refusal_text(capture.profile, exc))
        except (StoreWriteError, StreamingError) as exc:
            self._failed("Stopped", str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave the window thinking it is live
            log.exception("capture failed")
            self._failed("Stopped", f"{type(exc).__name__}: {exc}")
        else:
            if self.state is not ConnectionState.FAILED:  # the client said why it stopped
                self._set_state(ConnectionState.STOPPED, "Disconnected")
        finally:
            self._end_replay()

    def _failed(self, words: str, reason: str) -> None:
        self._set_state(ConnectionState.FAILED, words)
        self.problem.emit(CONNECTION, reason)

    def _set_state(self, state: ConnectionState, text: str, retry_in: float = 0.0) -> None:
        self.state, self.state_text = state, text
        self._retry_at = time.monotonic() + retry_in if retry_in > 0 else 0.0
        self.state_changed.emit(state.value, text, retry_in)

    @property
    def retry_in(self) -> float:
        """Seconds left to the next attempt (0 when none is planned)."""
        return max(self._retry_at - time.monotonic(), 0.0) if self._retry_at else 0.0

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

    def capturing(self, profile: Profile | None) -> bool:
        """Whether ``profile`` is the one this controller captures (connected or not)."""
        return profile is not None and self.profile is not None and profile.id == self.profile.id

    async def add_channel(
        self, profile: Profile, channel: str, replay_policy: str = "new", transport: str = ""
    ) -> None:
        """Add ``channel`` to ``profile``; subscribe at once if that profile is capturing
        (from ``replay_policy``: the user's choice wins over an earlier position), over
        ``transport`` ("" = the profile's)."""
        assert profile.id is not None
        sub = Subscription(channel, True, replay_policy, transport)
        await self.worker.run(self.store.set_subscription, profile.id, sub)
        if self.capturing(profile) and self.capture is not None and self.connected:
            try:
                await self.capture.add_channel(sub)
            except StreamingError as exc:
                self._refused(channel, str(exc))

    async def add_channels(
        self, profile: Profile, channels: list[str], policy: str, since_ms: int | None = None
    ) -> None:
        """Add many channels at once, all starting from ``policy`` (or from a time:
        ``since_ms``, kept in the store so that a restart before their first event still
        drops what is older); subscribed together if that profile is capturing."""
        assert profile.id is not None
        subs = [Subscription(channel, True, policy) for channel in channels]
        await self.worker.run(self._save_subscriptions, profile, subs, since_ms)
        capture = self.capture
        if not (self.capturing(profile) and capture is not None and self.connected):
            return
        done = await asyncio.gather(
            *(capture.add_channel(sub, since_ms) for sub in subs), return_exceptions=True
        )
        for sub, result in zip(subs, done, strict=True):
            if isinstance(result, StreamingError):
                self._refused(sub.channel, str(result))
            elif isinstance(result, BaseException):
                raise result

    def _save_subscriptions(
        self, profile: Profile, subs: list[Subscription], since_ms: int | None
    ) -> None:
        assert profile.id is not None
        for sub in subs:
            self.store.set_subscription(profile.id, sub)
            if since_ms is not None:  # kept as a position of the transport it will use
                transport = effective_transport(sub.channel, sub.transport, profile.transport)
                self.store.mark_live_since(profile.id, sub.channel, since_ms, transport)

    async def remove_channel(self, profile: Profile, channel: str, delete_events: bool) -> None:
        assert profile.id is not None
        if self.capturing(profile) and self.capture is not None and self.connected:
            with contextlib.suppress(StreamingError):
                await self.capture.unsubscribe(channel)
            if self.replay is not None:
                self.replay.failed(channel)
        await self.worker.run(self.store.remove_subscription, profile.id, channel, delete_events)

    async def replay_last_24h(self, channels: list[str]) -> None:
        """Every retained event of ``channels`` again, keeping the last 24 hours; those
        already captured are dropped by the store. Progress goes to ``activity``."""
        capture = self.capture
        if capture is None or not self.connected:
            raise StreamingError("connect first")
        self.replay = ReplayProgress(channels)
        self.activity.emit(self.replay.text())
        self._replay_timer.start()
        refused = await capture.replay(channels, self.replay.asked_at - REPLAY_WINDOW)
        for channel, text in refused.items():
            self._refused(channel, text)

    def _refused(self, channel: str, text: str) -> None:
        self.channel_changed.emit(channel, "error", text)
        self.problem.emit(channel, text)
        if self.replay is not None:
            self.replay.failed(channel)

    def _replay_tick(self) -> None:
        if self.replay is None:
            self._replay_timer.stop()
        elif self.replay.finished():
            self.activity.emit(self.replay.summary())
            self.replay = None
            self._replay_timer.stop()
        else:
            self.activity.emit(self.replay.text())

    def _end_replay(self) -> None:
        """The capture ended: a replay under way ends with what it had done."""
        if self.replay is not None:
            self.activity.emit(self.replay.summary() + " (interrupted)")
            self.replay = None
            self._replay_timer.stop()

    # --- from the capture (on the loop, i.e. the Qt thread) --------------------------------

    def _on_identity(self, profile: Profile) -> None:
        if self.capturing(profile):
            self.profile = profile
        self.identity_known.emit(profile)

    def _on_event(self, event: StreamEvent) -> None:
        self.received += 1
        if self.replay is not None:
            self.replay.event(event.channel, event.created_at.timestamp())

    def _on_written(self, result: IngestResult) -> None:
        if self.replay is not None and result.duplicates:
            self.replay.written(result.duplicates)
        if result.stored:
            self.events_stored.emit(result.stored)
        for notice in result.notices:  # replay ids that started over, or no event can have
            self.activity.emit(notice.server_text)

    def _on_notice(self, notice: Notice) -> None:
        if isinstance(notice, StateChange):
            self._state_notice(notice)
        elif isinstance(notice, ChannelChange):
            if self.replay is not None and notice.status is ChannelStatus.LIVE:
                self.replay.live(notice.channel)
            self.channel_changed.emit(notice.channel, notice.status.value, notice.error)
            if notice.status is ChannelStatus.LIVE:
                self.problem.emit(notice.channel, "")
            elif notice.error:
                self.problem.emit(notice.channel, notice.error)
        elif isinstance(notice, GapNotice):
            text = f"replay id {notice.stored_replay_id} could not be served: {notice.server_text}"
            self.gap_recorded.emit(notice.channel, text)

    def _state_notice(self, notice: StateChange) -> None:
        if notice.state is ConnectionState.RECONNECTING:
            self._set_state(notice.state, "Reconnecting", notice.delay or 0.0)
            self.problem.emit(CONNECTION, notice.reason)
        elif notice.state is ConnectionState.CONNECTED:
            self._set_state(notice.state, "Live")
        elif notice.state is ConnectionState.FAILED:
            self._set_state(notice.state, "Stopped")
            self.problem.emit(CONNECTION, notice.reason)
        elif notice.state is ConnectionState.CONNECTING:
            self._set_state(notice.state, "Connecting…")

    def _sample_rate(self) -> None:
        """Events per second over the last few seconds (sampled once a second)."""
        self._recent.append((time.monotonic(), self.received))
        (t0, c0), (t1, c1) = self._recent[0], self._recent[-1]
        self.rate = (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
