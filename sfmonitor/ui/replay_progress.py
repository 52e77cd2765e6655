"""What a "Replay last 24 hours" is doing, in words a person can follow.

A replay re-subscribes channels from the oldest retained event; the server then sends the
retained events (some already captured, dropped by the store's unique key) and carries on
with live ones. An event created before the replay was asked for is a replayed one. The
replay is over once every channel is live again and no replayed event has come for a
moment (or, at the latest, after ``LONGEST``).
"""

from __future__ import annotations

import time

QUIET = 2.0  # seconds without a replayed event, every channel live: the replay is over
LONGEST = 600.0


def channel_list(channels: list[str], shown: int = 3) -> str:
    names = ", ".join(channels[:shown])
    more = len(channels) - shown
    return f"{names} and {more} more" if more > 0 else names


class ReplayProgress:
    """Counts one replay request; ``text()`` while it runs, ``summary()`` at the end."""

    def __init__(self, channels: list[str], now: float | None = None) -> None:
        self.channels = list(channels)
        self.asked_at = time.time() if now is None else now  # epoch s, as created dates
        self.started = time.monotonic()
        self.pending = set(channels)  # not yet live again
        self.replayed = 0
        self.already_captured = 0
        self._last_replayed = self.started

    def event(self, channel: str, created_at: float) -> None:
        if channel in self.channels and created_at < self.asked_at:
            self.replayed += 1
            self._last_replayed = time.monotonic()

    def written(self, duplicates: int) -> None:
        """Events the store already had: during a replay, those are replayed ones."""
        self.already_captured += duplicates

    def live(self, channel: str) -> None:
        self.pending.discard(channel)

    def failed(self, channel: str) -> None:
        """The channel could not be re-subscribed: the replay no longer waits for it."""
        self.pending.discard(channel)

    def finished(self) -> bool:
        now = time.monotonic()
        if now - self.started > LONGEST:
            return True
        return not self.pending and now - self._last_replayed >= QUIET

    def text(self) -> str:
        which = channel_list(self.channels)
        return (
            f"Replaying {len(self.channels)} channel(s) ({which}): {self.replayed:,} events so far"
        )

    def summary(self) -> str:
        channels = len(self.channels)
        noun = "channel" if channels == 1 else "channels"
        text = f"Replayed {self.replayed:,} events on {channels} {noun}"
        if self.already_captured:
            text += f", {min(self.already_captured, self.replayed):,} already captured"
        return text
