"""Observable state of a streaming client: connection state, per-channel status, gaps."""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class ConnectionState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"
    FAILED = "failed"


class ChannelStatus(enum.StrEnum):
    SUBSCRIBING = "subscribing"
    LIVE = "live"
    ERROR = "error"
    UNSUBSCRIBED = "unsubscribed"


@dataclass(frozen=True)
class StateChange:
    """The connection changed state. ``reason`` quotes the server verbatim where it spoke."""

    state: ConnectionState
    reason: str = ""
    delay: float | None = None  # seconds until the next attempt, when reconnecting
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ChannelChange:
    """A channel's status changed. For ``LIVE``, ``at`` is the server's time (from the
    ``Date`` of its replies) where known: a store keeps it as the point a "new events only"
    channel went live from, to be compared with the server's creation dates later."""

    channel: str
    status: ChannelStatus
    error: str = ""  # the server's error text, verbatim
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class GapNotice:
    """Events of ``channel`` may be missing: the stored replay id could not be served.

    ``action`` says what the client did: ``replay_all`` (re-subscribed with -2, so every
    retained event comes again), ``new_only`` (-1), ``fail`` (the channel stays down), or
    ``skipped`` (a message of the channel could not be read and was left out; the stream
    goes on; ``stored_replay_id`` is then the last id received before it, if any).
    """

    channel: str
    stored_replay_id: int | None
    server_text: str
    action: str
    at: float = field(default_factory=time.time)


Notice = StateChange | ChannelChange | GapNotice
Listener = Callable[[Notice], None]


class Backoff:
    """Exponential backoff with full jitter, capped; ``reset()`` after a success."""

    def __init__(self, base: float = 0.5, cap: float = 60.0, factor: float = 2.0) -> None:
        self.base = base
        self.cap = cap
        self.factor = factor
        self.attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * self.factor**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class LoginGuard:
    """Bounds logins to ``limit`` per ``window`` seconds: repeated logins lock users out."""

    def __init__(self, limit: int = 3, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._times: list[float] = []

    def wait_time(self) -> float:
        """Seconds to wait before the next login is allowed (0 = now)."""
        now = time.monotonic()
        self._times = [t for t in self._times if now - t < self.window]
        if len(self._times) < self.limit:
            return 0.0
        return self.window - (now - self._times[0])

    def record(self) -> None:
        self._times.append(time.monotonic())
