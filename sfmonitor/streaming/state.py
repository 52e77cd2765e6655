"""What a streaming client tells its listeners: connection state, per-channel status, gaps.

These are the values the rest of the app sees; the engine's own lifecycle is ``phase.Phase``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Moved to ``policy``; re-exported for callers outside the package until they switch.
from .policy import Backoff, LoginGuard

__all__ = [
    "Backoff",
    "ChannelChange",
    "ChannelStatus",
    "ConnectionState",
    "GapNotice",
    "Listener",
    "LoginGuard",
    "Notice",
    "StateChange",
]


class ConnectionState(enum.StrEnum):
    """The connection as listeners see it (``StateChange.state``)."""

    # CONNECTING: start() is logging in and handshaking.
    CONNECTING = "connecting"
    # CONNECTED: a session is up and polled; events flow.
    CONNECTED = "connected"
    # RECONNECTING: a request failed or the session was lost; the client retries by itself
    # (``StateChange.delay``: in how many seconds) and resumes every channel where it was.
    RECONNECTING = "reconnecting"
    # STOPPED: stop() was called, or the client was never started.
    STOPPED = "stopped"
    # FAILED: the client gave up; the error went to start() or to the iteration. A new
    # start() tries again.
    FAILED = "failed"


class ChannelStatus(enum.StrEnum):
    """A channel's subscription as listeners see it (``ChannelChange.status``)."""

    # SUBSCRIBING: asked for; the server's reply is awaited (also after a re-handshake).
    SUBSCRIBING = "subscribing"
    # LIVE: the server accepted it; its events flow.
    LIVE = "live"
    # ERROR: the server refused it (``ChannelChange.error`` quotes why); not retried.
    ERROR = "error"
    # UNSUBSCRIBED: unsubscribe() was called.
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
