"""Live rate per channel: events per minute and the last ten minutes, from counts.

The window already reads each channel's total once a second (``channel_counts``);
``feed_totals`` turns those totals into counts per second, so rates cost no query of
their own. ``add`` takes counts directly (e.g. from an ingest result). Ten minutes of
one-second slots per channel: a ring, overwritten as time moves on, so memory is fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

WINDOW_S = 600  # the sparkline's ten minutes
RATE_S = 60  # events per minute: over the last minute
POINTS = 60  # a sparkline point per ten seconds


class _Ring:
    """Counts per second over the last ``WINDOW_S`` seconds."""

    __slots__ = ("counts", "stamps")

    def __init__(self) -> None:
        self.counts = [0] * WINDOW_S
        self.stamps = [-1] * WINDOW_S  # the second each slot holds

    def add(self, second: int, count: int) -> None:
        slot = second % WINDOW_S
        if self.stamps[slot] != second:
            self.stamps[slot] = second
            self.counts[slot] = 0
        self.counts[slot] += count

    def last(self, now: int, seconds: int) -> list[int]:
        """Counts of the ``seconds`` seconds up to ``now``, oldest first."""
        out = []
        for second in range(now - seconds + 1, now + 1):
            slot = second % WINDOW_S
            out.append(self.counts[slot] if self.stamps[slot] == second else 0)
        return out


class RateMeter:
    """Rates of one profile's channels (``clear`` when another profile is shown)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rings: dict[str, _Ring] = {}
        self._totals: dict[str, int] | None = None  # the last totals fed
        self._since = clock()  # when the meter started to count

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    def clear(self) -> None:
        self._rings.clear()
        self._totals = None
        self._since = self._clock()

    def add(self, channel: str, count: int, now: float | None = None) -> None:
        if count > 0:
            ring = self._rings.get(channel)
            if ring is None:
                ring = self._rings[channel] = _Ring()
            ring.add(int(self._now(now)), count)

    def feed_totals(self, totals: Mapping[str, int], now: float | None = None) -> None:
        """Each channel's stored total, as read now. The first call is the baseline (the
        capture so far is not "new"); a channel that appears later counts from zero; a
        total that drops (events deleted) is a new baseline."""
        at = self._now(now)
        if self._totals is not None:
            for channel, total in totals.items():
                added = total - self._totals.get(channel, 0)
                if added > 0:
                    self.add(channel, added, at)
        else:
            self._since = at
        self._totals = dict(totals)

    def rate(self, channel: str, now: float | None = None) -> float:
        """Events per minute over the last minute (or the time counted, if shorter)."""
        ring = self._rings.get(channel)
        if ring is None:
            return 0.0
        at = self._now(now)
        span = min(float(RATE_S), max(1.0, at - self._since))
        seconds = min(RATE_S, max(1, int(span)))
        return sum(ring.last(int(at), seconds)) * 60.0 / span

    def rates(self, now: float | None = None) -> dict[str, float]:
        at = self._now(now)
        return {channel: self.rate(channel, at) for channel in self._rings}

    def series(self, channel: str, now: float | None = None, points: int = POINTS) -> list[int]:
        """The last ten minutes in ``points`` counts, oldest first (the sparkline)."""
        ring = self._rings.get(channel)
        if ring is None:
            return [0] * points
        counts = ring.last(int(self._now(now)), WINDOW_S)
        width = WINDOW_S / points
        out = [0] * points
        for i, count in enumerate(counts):
            if count:
                out[min(int(i / width), points - 1)] += count
        return out


def rate_text(per_minute: float) -> str:
    """A short rate for a sidebar line: "0/min", "12/min", "3.4k/min"."""
    if per_minute >= 10_000:
        return f"{per_minute / 1000:.0f}k/min"
    if per_minute >= 1000:
        return f"{per_minute / 1000:.1f}k/min"
    if 0 < per_minute < 10:
        return f"{per_minute:.1f}/min"
    return f"{per_minute:.0f}/min"
