"""How hard the client tries, and how fast: the settings of one session (``Policy``), the
backoff between failed sessions (``Backoff``) and the bound on logins (``LoginGuard``).

Settings and arithmetic only, no I/O: the session engine asks these what to wait, and waits.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

#: what the client does when a stored replay id can no longer be served (``GapNotice``)
STALE_REPLAY_POLICIES = ("replay_all", "new_only", "fail")


@dataclass
class Policy:
    """The retry settings of one CometD session (the client builds one per ``start()``)."""

    auto_reconnect: bool = True
    stale_replay: str = "replay_all"
    subscribe_retries: int = 0  # extra attempts for a retryable subscribe failure
    subscribe_retry_delay: float = 0.1
    subscribe_retry_factor: float = 1.0
    subscribe_retry_max_delay: float = 30.0
    # A long poll answered with HTTP 408/500 was superseded by a newer one (a duplicate
    # connect, §2.5): polled again at once this many times, ``poll_retry_step`` s apart
    # (times the attempt), before it counts as a transport failure.
    poll_retries: int = 2
    poll_retry_step: float = 0.05
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

    def subscribe_retry_wait(self, attempt: int) -> float:
        """Seconds before subscribe attempt ``attempt`` (1 = the first retry)."""
        delay = self.subscribe_retry_delay * self.subscribe_retry_factor ** (attempt - 1)
        return min(self.subscribe_retry_max_delay, delay)


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
