"""Channels and their retained event logs: replay ids, retention, replay look-ups.

Each event is serialized to JSON bytes once, when it is published; sessions queue those
bytes, so delivering an event to N clients costs N reference copies, not N encodings.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    PUSH_TOPIC = "pushtopic"
    GENERIC = "generic"
    PLATFORM_EVENT = "platform_event"
    CHANGE_EVENT = "change_event"
    MONITORING = "monitoring"

    @property
    def high_volume(self) -> bool:
        """Platform events, CDC and monitoring streams: 72 h retention, other allocations."""
        return self not in (ChannelKind.PUSH_TOPIC, ChannelKind.GENERIC)


MONITORING_STREAMS = frozenset(
    {
        "LoginEventStream",
        "LogoutEventStream",
        "ApiEventStream",
        "LightningUriEventStream",
        "ListViewEventStream",
        "UriEventStream",
        "ReportEventStream",
        "ApiAnomalyEvent",
        "SessionHijackingEvent",
        "CredentialStuffingEvent",
        "ReportAnomalyEvent",
    }
)


def split_channel(channel: str) -> tuple[str, str]:
    """``/topic/X?A=1`` -> (``/topic/X``, ``A=1``)."""
    base, _, query = channel.partition("?")
    return base, query


def classify(channel: str) -> ChannelKind | None:
    """The kind of a subscribable channel by its prefix, or None for anything else."""
    base, _ = split_channel(channel)
    if base.startswith("/topic/") and len(base) > 7:
        return ChannelKind.PUSH_TOPIC
    if base.startswith("/u/") and len(base) > 3:
        return ChannelKind.GENERIC
    if base.startswith("/data/") and len(base) > 6:
        return ChannelKind.CHANGE_EVENT
    if base.startswith("/event/") and len(base) > 7:
        name = base[7:]
        if name in MONITORING_STREAMS:
            return ChannelKind.MONITORING
        return ChannelKind.PLATFORM_EVENT
    return None


@dataclass(slots=True)
class RetainedEvent:
    replay_id: int
    created_ms: int
    body: bytes  # the whole event message, serialized once
    fields: dict[str, Any] | None = None  # PushTopic sobject, for filtered subscriptions
    message: dict[str, Any] | None = None  # kept only where a re-encoding may be needed
    event_uuid: str | None = None  # platform events: the EventUuid their publish returned


@dataclass
class ChannelLog:
    """Retained events of one channel, oldest first, with increasing replay ids."""

    name: str
    kind: ChannelKind
    retention: float
    events: list[RetainedEvent] = field(default_factory=list)
    last_replay_id: int = 0
    newest_purged_id: int | None = None  # replay id of the newest event dropped by retention
    published: int = 0
    _step: int = 0

    def next_replay_id(self) -> int:
        """Increasing but not contiguous, as Salesforce's are (999 may be followed by 1025)."""
        self._step += 1
        self.last_replay_id += 1 if self._step % 4 else 7
        return self.last_replay_id

    def append(self, event: RetainedEvent) -> None:
        self.events.append(event)
        self.published += 1

    def purge(self, now_ms: int) -> None:
        """Drop events older than the retention window."""
        cutoff = now_ms - int(self.retention * 1000)
        if not self.events or self.events[0].created_ms >= cutoff:
            return
        keys = [e.created_ms for e in self.events]
        n = bisect.bisect_left(keys, cutoff)
        if n:
            self.newest_purged_id = self.events[n - 1].replay_id
            del self.events[:n]

    def after(self, replay_id: int) -> list[RetainedEvent]:
        """Retained events with a replay id greater than ``replay_id``."""
        ids = [e.replay_id for e in self.events]
        return self.events[bisect.bisect_right(ids, replay_id) :]

    def replay_id_valid(self, replay_id: int, exact: bool, accept_future: bool) -> bool:
        """Whether a subscribe from ``replay_id`` can be served without a silent gap."""
        if replay_id > self.last_replay_id and not accept_future:
            return False
        if self.newest_purged_id is not None and replay_id < self.newest_purged_id:
            return False
        if exact and replay_id <= self.last_replay_id:
            known = {e.replay_id for e in self.events}
            return replay_id in known or replay_id == self.newest_purged_id
        return True
