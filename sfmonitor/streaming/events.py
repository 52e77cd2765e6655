"""``StreamEvent``: one received event in a form the app can store and show, whatever its kind."""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sfmonitor.timefmt import parse_time

from .replay import creation_time_of, replay_id_of

_PREFIX_OBJECTS = {
    "001": "Account",
    "003": "Contact",
    "006": "Opportunity",
    "00Q": "Lead",
    "500": "Case",
    "005": "User",
    "00T": "Task",
    "00U": "Event",
}
SUMMARY_MAX = 200


class EventKind(enum.StrEnum):
    PUSH_TOPIC = "pushtopic"
    GENERIC = "generic"
    PLATFORM_EVENT = "platform_event"
    CHANGE_EVENT = "change_event"
    MONITORING = "monitoring"
    UNKNOWN = "unknown"


CHANNEL_PREFIXES = ("/topic/", "/event/", "/data/", "/u/")
CHANNEL_EXAMPLES = (
    "/topic/AccountUpdates",
    "/event/Order_Placed__e",
    "/data/ChangeEvents",
    "/data/AccountChangeEvent",
    "/u/notifications",
    "/event/LoginEventStream",
)
_CHANNEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:__[a-z]+)?")


def channel_problem(channel: str) -> str | None:
    """Why ``channel`` is not a channel name Salesforce accepts, or None if it is fine."""
    prefix = next((p for p in CHANNEL_PREFIXES if channel.startswith(p)), None)
    if prefix is None:
        return "a channel starts with /topic/, /event/, /data/ or /u/"
    name = channel[len(prefix) :]
    if not name:
        return f"the name after {prefix} is missing"
    base = name.partition("?")[0]  # PushTopic channels may carry a filter: /topic/X?Field=v
    if not _CHANNEL_NAME.fullmatch(base):
        return (
            f"{base!r} is not a valid name (letters, digits and underscores, starting "
            "with a letter)"
        )
    return None


def kind_of(channel: str, data: Any = None) -> EventKind:
    """The kind of an event from its channel (and, for /event/, from its payload)."""
    if channel.startswith("/topic/"):
        return EventKind.PUSH_TOPIC
    if channel.startswith("/u/"):
        return EventKind.GENERIC
    if channel.startswith("/data/"):
        return EventKind.CHANGE_EVENT
    if channel.startswith("/event/"):
        payload = data.get("payload") if isinstance(data, dict) else None
        name = channel[7:].partition("?")[0]
        if (
            name.endswith("EventStream")
            or name.endswith("AnomalyEvent")
            or (
                isinstance(payload, dict)
                and "EventDate" in payload
                and "CreatedDate" not in payload
            )
        ):
            return EventKind.MONITORING
        return EventKind.PLATFORM_EVENT
    return EventKind.UNKNOWN


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """A normalized event; ``raw`` is the message exactly as received."""

    channel: str
    kind: EventKind
    replay_id: int | None
    event_uuid: str | None
    created_at: datetime  # UTC; the receive time when the event carries none
    received_at: datetime  # UTC
    summary: str
    raw: dict[str, Any]
    change: str = ""  # the type/change column: CDC changeType, PushTopic type, event name

    @classmethod
    def from_message(cls, message: dict[str, Any], received_at: float | None = None) -> StreamEvent:
        channel = str(message.get("channel", ""))
        data = message.get("data")
        received = datetime.fromtimestamp(received_at or time.time(), tz=UTC)
        created = parse_time(creation_time_of(message)) or received
        event = data.get("event") if isinstance(data, dict) else None
        uuid = event.get("EventUuid") if isinstance(event, dict) else None
        kind = kind_of(channel, data)
        return cls(
            channel,
            kind,
            replay_id_of(message),
            uuid if isinstance(uuid, str) else None,
            created,
            received,
            summarize(kind, channel, data),
            message,
            change_of(kind, channel, data),
        )


def change_of(kind: EventKind, channel: str, data: Any) -> str:
    """What happened, in one word: ``UPDATE``, ``CREATED``, ``Order_Placed__e``..."""
    data = _dict(data)
    if kind is EventKind.PUSH_TOPIC:
        return str(_dict(data.get("event")).get("type", "")).upper()
    if kind is EventKind.CHANGE_EVENT:
        header = _dict(_dict(data.get("payload")).get("ChangeEventHeader"))
        return str(header.get("changeType", ""))
    if kind is EventKind.GENERIC:
        return "message"
    return channel.partition("?")[0].rpartition("/")[2]


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _object_of(record_id: Any) -> str:
    return _PREFIX_OBJECTS.get(record_id[:3], "Record") if isinstance(record_id, str) else "Record"


def summarize(kind: EventKind, channel: str, data: Any) -> str:
    """One line a person can scan, e.g. ``Account 001… UPDATE Name, Phone``."""
    if not isinstance(data, dict):
        return _short(data)
    payload = data.get("payload")
    if kind is EventKind.PUSH_TOPIC:
        sobject = _dict(data.get("sobject"))
        event = _dict(data.get("event"))
        rid = sobject.get("Id")
        change = str(event.get("type", "")).upper()
        fields = ", ".join(f"{k}={_short(v, 30)}" for k, v in sobject.items() if k != "Id")
        text = f"{_object_of(rid)} {rid or '?'} {change} {fields}"
    elif kind is EventKind.CHANGE_EVENT and isinstance(payload, dict):
        header = _dict(payload.get("ChangeEventHeader"))
        ids = header.get("recordIds")
        ids = ids if isinstance(ids, list) else []
        first = ids[0] if ids else "?"
        more = f" (+{len(ids) - 1})" if len(ids) > 1 else ""
        changed = header.get("changedFields") or []
        fields = ", ".join(str(f) for f in changed) if isinstance(changed, list) else ""
        text = (
            f"{header.get('entityName', '?')} {first}{more} "
            f"{header.get('changeType', '?')} {fields}"
        )
    elif kind is EventKind.GENERIC:
        text = _short(payload, SUMMARY_MAX)
    elif isinstance(payload, dict):
        name = channel.rpartition("/")[2]
        skip = {
            "CreatedDate",
            "CreatedById",
            "EventDate",
            "EventUuid",
            "EventIdentifier",
            "LoginKey",
            "SessionKey",
        }
        fields = ", ".join(f"{k}={_short(v, 30)}" for k, v in payload.items() if k not in skip)
        text = f"{name} {fields}"
    else:
        text = _short(data, SUMMARY_MAX)
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"
