"""Replay values and where each event kind keeps its replay id and creation time (§3.6)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

# The time helpers live in the neutral ``sfmonitor.timefmt``; they are re-exported here for
# callers that have not switched their import yet.
from sfmonitor.timefmt import iso_from_ms, parse_time

__all__ = [
    "MAX_REPLAY_ID",
    "LiveSince",
    "ReplayType",
    "creation_time_of",
    "iso_from_ms",
    "parse_time",
    "replay_id_of",
    "usable_replay_id",
]


class ReplayType(enum.IntEnum):
    """The special replay values of the Salesforce replay extension."""

    ALL_EVENTS = -2  # every retained event (24 h or 72 h), then live
    NEW_EVENTS = -1  # only events published after the subscribe


@dataclass(frozen=True)
class LiveSince:
    """Resume point of a channel that went live with ``NEW_EVENTS`` at ``since`` (epoch
    seconds) and has received nothing since: no replay id exists to resume from, so the
    client subscribes with ``ALL_EVENTS`` and drops events created before ``since`` (less a
    clock-skew margin). ``get_last_replay_id`` may return one, e.g. after a restart."""

    since: float


# Salesforce's replay ids are Java longs that only go up from 1: 1 .. 2**63-1.
MAX_REPLAY_ID = 2**63 - 1


def usable_replay_id(value: Any) -> int | None:
    """``value`` if it can be a replay id to resume from (an int in 1 .. 2**63-1), else None.

    Anything else a server may send (2**63 and over, zero or negative, a float, a string, a
    boolean) is not usable: the event carrying it is still delivered, but the id never
    becomes a channel's resume point or de-duplication mark, where one bad value would make
    every later event look like a duplicate (or, in SQLite, overflow an INTEGER).
    """
    if type(value) is int and 0 < value <= MAX_REPLAY_ID:
        return value
    return None


def replay_id_of(message: dict[str, Any]) -> int | None:
    """``data.event.replayId`` for every event kind, or None when absent or not usable
    (see ``usable_replay_id``): ``StreamEvent.replay_id`` is None for those."""
    data = message.get("data")
    if not isinstance(data, dict):
        return None
    event = data.get("event")
    if not isinstance(event, dict):
        return None
    return usable_replay_id(event.get("replayId"))


def creation_time_of(message: dict[str, Any]) -> str | None:
    """The creation time as Salesforce's ISO string, wherever the kind keeps it.

    PushTopic/generic: data.event.createdDate; platform events: data.payload.CreatedDate;
    CDC: data.payload.ChangeEventHeader.commitTimestamp (epoch ms, converted to ISO so that
    every kind orders the same way); monitoring: data.payload.EventDate. None if absent.
    """
    data = message.get("data")
    if not isinstance(data, dict):
        return None
    event = data.get("event")
    if isinstance(event, dict) and isinstance(event.get("createdDate"), str):
        return str(event["createdDate"])
    payload = data.get("payload")
    if not isinstance(payload, dict):
        return None
    header = payload.get("ChangeEventHeader")
    if isinstance(header, dict):
        ts = header.get("commitTimestamp")
        if isinstance(ts, int | float) and not isinstance(ts, bool) and 0 <= ts < 2**47:
            return iso_from_ms(int(ts))
    for key in ("CreatedDate", "EventDate"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return None
