"""The org's limits (``GET /services/data/vXX.X/limits/``) and what a replay would spend.

``DailyDeliveredPlatformEvents`` is the allocation a replay of platform events and change
events spends: every event delivered to every CometD or Pub/Sub subscriber counts. Salesforce
says the values are "accurate within five minutes", and other subscribers spend the same
allocation meanwhile: ``check_replay`` keeps a margin for both. The resource needs the View
Setup and Configuration permission.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..auth.http import OAuthHttp
from .model import Kind
from .rest import RestClient, TokenSource

DELIVERY = "DailyDeliveredPlatformEvents"
# The streaming counters, in the order a tooltip lists them (reference §3.2; the names
# without "Durable" are those of API 36.0 and earlier, still reported).
STREAMING_LIMITS = (
    DELIVERY,
    "MonthlyPlatformEventsUsageEntitlement",
    "HourlyPublishedPlatformEvents",
    "DailyStandardVolumePlatformEvents",
    "HourlyPublishedStandardVolumePlatformEvents",
    "DailyDurableStreamingApiEvents",
    "DailyDurableGenericStreamingApiEvents",
    "DurableStreamingApiConcurrentClients",
    "DailyStreamingApiEvents",
    "DailyGenericStreamingApiEvents",
    "StreamingApiConcurrentClients",
)
# What delivering one event of a kind to one subscriber spends (None: no daily allocation;
# real-time monitoring events are not counted against it).
ALLOCATION_OF_KIND: dict[Kind, str | None] = {
    Kind.PUSH_TOPIC: "DailyDurableStreamingApiEvents",
    Kind.GENERIC: "DailyDurableGenericStreamingApiEvents",
    Kind.PLATFORM_EVENT: DELIVERY,
    Kind.STANDARD_EVENT: DELIVERY,
    Kind.CHANGE_EVENT: DELIVERY,
    Kind.CUSTOM_CHANNEL: DELIVERY,
    Kind.MONITORING: None,
}


@dataclass(frozen=True)
class Limit:
    name: str
    max: int
    remaining: int

    @property
    def used(self) -> int:
        return max(0, self.max - self.remaining)

    @property
    def used_fraction(self) -> float:
        return self.used / self.max if self.max > 0 else 0.0

    @property
    def text(self) -> str:
        return f"{self.name}: {self.remaining:,} of {self.max:,} left"


@dataclass(frozen=True)
class Limits:
    values: Mapping[str, Limit]
    fetched_at: str  # ISO 8601, UTC

    def get(self, name: str) -> Limit | None:
        return self.values.get(name)

    @property
    def delivery(self) -> Limit | None:
        """``DailyDeliveredPlatformEvents``: what the status bar meter shows."""
        return self.values.get(DELIVERY)

    def streaming(self) -> list[Limit]:
        """The streaming counters the org reports, in ``STREAMING_LIMITS`` order."""
        return [self.values[n] for n in STREAMING_LIMITS if n in self.values]

    def to_dict(self) -> dict[str, dict[str, int]]:
        """Salesforce's own shape: ``{Name: {"Max": …, "Remaining": …}}``."""
        return {n: {"Max": v.max, "Remaining": v.remaining} for n, v in self.values.items()}


def parse_limits(data: Any, fetched_at: str | None = None) -> Limits:
    """``Limits`` from the resource's JSON; entries that are not ``{Max, Remaining}``
    numbers are skipped (the resource nests per-app counters under some names)."""
    values = {}
    if isinstance(data, dict):
        for name, entry in data.items():
            if not isinstance(entry, dict):
                continue
            top, left = entry.get("Max"), entry.get("Remaining")
            if isinstance(top, int) and isinstance(left, int) and not isinstance(top, bool):
                values[str(name)] = Limit(str(name), top, left)
    when = fetched_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Limits(values, when)


async def fetch_limits(
    instance_url: str,
    token: str | TokenSource,
    api_version: str | None = None,
    *,
    http: OAuthHttp | None = None,
) -> Limits:
    """GET ``/limits/``. A refusal raises ``RestError`` (``.permission`` True when the user
    lacks View Setup and Configuration)."""
    client = RestClient(instance_url, token, api_version, http)
    return parse_limits(await client.get("limits/"))


@dataclass(frozen=True)
class ReplayCheck:
    """Would a replay likely exceed what remains of its allocation?"""

    allocation: str | None
    events: int  # deliveries the replay would make (events x subscribers)
    remaining: int | None
    max: int | None
    likely_exceeds: bool

    @property
    def message(self) -> str:
        if self.allocation is None:
            return "These events do not count against a daily delivery allocation."
        if self.remaining is None or self.max is None:
            return f"The org does not report {self.allocation}; the cost is unknown."
        head = (
            f"Replaying about {self.events:,} events would spend them from "
            f"{self.allocation}, which has {self.remaining:,} of {self.max:,} left today"
        )
        if self.likely_exceeds:
            return head + ": it would likely run out, and every subscriber of the org with it."
        return head + "."


def check_replay(
    limits: Limits,
    events: int,
    kind: Kind = Kind.PLATFORM_EVENT,
    *,
    subscribers: int = 1,
    margin: float = 0.05,
) -> ReplayCheck:
    """Would replaying ``events`` events of ``kind`` to ``subscribers`` clients likely
    exceed what remains? ``margin`` (a fraction of the allocation) is kept back for the
    five-minute lag of the figures and for the org's other subscribers."""
    if events < 0 or subscribers < 1 or not 0 <= margin < 1:
        raise ValueError("events >= 0, subscribers >= 1 and 0 <= margin < 1")
    allocation = ALLOCATION_OF_KIND[kind]
    spend = events * subscribers
    if allocation is None:
        return ReplayCheck(None, spend, None, None, False)
    limit = limits.get(allocation)
    if limit is None:
        return ReplayCheck(allocation, spend, None, None, False)
    budget = limit.remaining - int(limit.max * margin)
    return ReplayCheck(allocation, spend, limit.remaining, limit.max, spend > 0 and spend > budget)
