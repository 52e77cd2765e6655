"""The engine's small types: Bayeux messages, the hooks and policy of a session, a channel
the caller wants, and what a reply says (its error, its ``failureReason``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import BayeuxError
from .replay import LiveSince
from .state import ChannelStatus, Notice

Message = dict[str, Any]
Batch = list[Message]
STOP = object()  # queue sentinel: iteration ends
STALE_REPLAY_POLICIES = ("replay_all", "new_only", "fail")


@dataclass
class Hooks:
    """What the engine asks of its owner (the public client class)."""

    fetch_token: Callable[[], Awaitable[tuple[str, str]]]
    initial_replay: Callable[[str], Awaitable[int | LiveSince]]
    resolve_version: Callable[[str], Awaitable[str]]
    notify: Callable[[Notice], None]


@dataclass
class Policy:
    auto_reconnect: bool = True
    stale_replay: str = "replay_all"
    subscribe_retries: int = 0  # extra attempts for a retryable subscribe failure
    subscribe_retry_delay: float = 0.1
    subscribe_retry_factor: float = 1.0
    subscribe_retry_max_delay: float = 30.0
    queue_batches: int = 4  # replies buffered ahead of the caller
    http_margin: float = 30.0  # HTTP read timeout = advice.timeout + this (§2.5)
    # At most this many logins per window: a loop of logins (a token that keeps being
    # refused) must not hammer the org, yet a few revocations in a row are normal.
    login_limit: int = 10
    login_window: float = 300.0
    backoff_cap: float = 60.0
    # A channel that went live with -1 and has received nothing has no replay id to resume
    # from; it is resumed with -2, dropping events created this long before it went live.
    # Both times are the server's (its creation dates; its Date header when the channel went
    # live), so our clock does not matter; the margin covers the Date header's one-second
    # resolution, network delays and a clock corrected between two runs. Where in doubt an
    # event is kept: the store drops what it already has.
    clock_skew: float = 120.0


@dataclass
class Channel:
    """A subscription the caller wants; it survives re-handshakes."""

    name: str
    replay: int | None = None  # explicit replay asked by the caller, used once
    live_since: float | None = None  # when it went live from -1 (no replay id known yet)
    status: ChannelStatus = ChannelStatus.SUBSCRIBING
    sent_in: int = -1  # the session number it was last sent in
    attempts: int = 0
    waiters: list[asyncio.Future[Batch]] = field(default_factory=list)


def is_replay_invalid(text: str) -> bool:
    return text.startswith("400::The replayId") and "invalid" in text


def find_reply(replies: Batch, channel: str) -> Message | None:
    return next((m for m in replies if type(m) is dict and m.get("channel") == channel), None)


def failure_reason(reply: Message) -> str | None:
    ext = reply.get("ext")
    sfdc = ext.get("sfdc") if isinstance(ext, dict) else None
    reason = sfdc.get("failureReason") if isinstance(sfdc, dict) else None
    return reason if isinstance(reason, str) else None


def error_of(reply: Message) -> BayeuxError:
    error = reply.get("error")
    return BayeuxError(
        error if isinstance(error, str) else "unsuccessful reply without error",
        failure_reason(reply),
        reply.get("channel"),
    )
