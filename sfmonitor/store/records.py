"""The ``events`` row of a received event, and the JSON text of its message.

Whatever a server sends and the client parses, its row can be built: text SQLite cannot
hold is replaced in the searchable columns (the raw message keeps it, escaped), and a
message orjson refuses (a lone surrogate, nesting deeper than 255, an integer beyond 64
bits) is written by a small encoder that needs no recursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple, overload

import orjson

from sfmonitor.streaming.events import StreamEvent

from .validation import REPLAY_ID_MAX

GAP_KIND = "gap"  # the kind of the marked rows that show a gap (or a notice) among the events
INSERT = (
    "INSERT OR IGNORE INTO events (profile_id, channel, kind, replay_id, event_uuid, "
    "created_at, received_at, change, summary, raw, replay_bytes, schema_id, avro) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# what a gap row's ``action`` says, beyond the client's replay_all / new_only / fail
RESTARTED = "ids_restarted"  # the server's replay ids started over
ODD_REPLAY_ID = "odd_replay_id"  # a replay id no event can have (negative, beyond 64 bits)
_NOTICES = {RESTARTED, ODD_REPLAY_ID}


def gap_summary(gap: Any) -> str:
    """The table's line for a gap row, from its ``gap`` object."""
    gap = gap if isinstance(gap, dict) else {}
    action = str(gap.get("action"))
    if action in _NOTICES:
        return f"Notice: {gap.get('serverText', '')}"[:300]
    done = {"replay_all": "replayed every retained event", "new_only": "new events only"}
    text = (
        f"Gap: replay id {gap.get('storedReplayId')} could not be served "
        f"({done.get(action, 'channel stopped')}): {gap.get('serverText', '')}"
    )
    return text[:300]


def _ms(dt: Any) -> int:
    return int(dt.timestamp() * 1000)


def raw_json(message: Any) -> str:
    """Compact JSON of a message. What orjson cannot write (a lone surrogate, which UTF-8
    cannot hold, kept as a ``\\udXXX`` escape; deep nesting; a huge integer) is written by
    ``_encode`` instead."""
    try:
        return orjson.dumps(message).decode()
    except orjson.JSONEncodeError:
        return _encode(message)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        try:
            return int.__repr__(value)
        except ValueError:  # more digits than Python prints: keep its size at least
            return float.__repr__(float(value)) if abs(value) < 2**1023 else "null"
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else "null"  # as orjson does
    return encode_basestring_ascii(str(value))


def _encode(message: Any) -> str:
    """JSON of any parsed message with an explicit stack, ASCII only (the same text
    ``json.dumps(..., ensure_ascii=True, separators=(",", ":"))`` gives, at any depth)."""
    out: list[str] = []
    stack: list[Any] = [message]
    while stack:
        item = stack.pop()
        if isinstance(item, _Literal):
            out.append(item.text)
        elif isinstance(item, dict):
            parts: list[Any] = [_Literal("}")]
            for i, (key, value) in enumerate(reversed(item.items())):
                parts.append(value)
                sep = "," if i < len(item) - 1 else ""
                parts.append(_Literal(sep + encode_basestring_ascii(str(key)) + ":"))
            parts.append(_Literal("{"))
            stack.extend(parts)
        elif isinstance(item, list | tuple):
            parts = [_Literal("]")]
            for i, value in enumerate(reversed(item)):
                parts.append(value)
                if i < len(item) - 1:
                    parts.append(_Literal(","))
            parts.append(_Literal("["))
            stack.extend(parts)
        else:
            out.append(_scalar(item))
    return "".join(out)


class _Literal:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


@overload
def text_for_sqlite(value: str) -> str: ...
@overload
def text_for_sqlite(value: None) -> None: ...
@overload
def text_for_sqlite(value: str | None) -> str | None: ...
def text_for_sqlite(value: str | None) -> str | None:
    """Text SQLite can store: a lone surrogate becomes U+FFFD (the raw message keeps it)."""
    if value is None or value.isascii():
        return value
    return value.encode("utf-8", "replace").decode("utf-8")


def _sent_replay_id(ev: StreamEvent) -> Any:
    """The replay id as the server sent it: the event's, or, where the client found it
    unusable (and gave None), the message's own value (``ingest`` notices it)."""
    if ev.replay_id is not None:
        return ev.replay_id
    data = ev.raw.get("data") if isinstance(ev.raw, dict) else None
    event = data.get("event") if isinstance(data, dict) else None
    return event.get("replayId") if isinstance(event, dict) else None


@dataclass(frozen=True, slots=True)
class PubSubWire:
    """What a Pub/Sub event carries beyond its ``StreamEvent``: the replay id bytes (opaque),
    the Avro schema id and the payload exactly as received. A plain value, so that the
    store knows nothing of the Pub/Sub client."""

    replay_bytes: bytes
    schema_id: str
    avro: bytes

    @property
    def replay_value(self) -> int | None:
        """The replay id as an events row keeps it: the 8-byte big-endian value when it
        has 8 bytes and fits SQLite's INTEGER, else None (the bytes stay the id)."""
        if len(self.replay_bytes) != 8:
            return None
        value = int.from_bytes(self.replay_bytes, "big")
        return value if 0 < value <= REPLAY_ID_MAX else None


class EventRecord(NamedTuple):
    """One ``events`` row to insert, in ``INSERT``'s column order (a tuple for SQLite,
    named fields for the code that reads it). The last three are a Pub/Sub event's."""

    profile_id: int
    channel: str
    kind: str
    replay_id: Any  # as the server sent it: ``ingest`` keeps an unusable one out
    event_uuid: str | None
    created_at: int  # ms
    received_at: int  # ms
    change: str | None
    summary: str | None
    raw: str
    replay_bytes: bytes | None = None  # a Pub/Sub replay id as sent (opaque)
    schema_id: str | None = None  # its Avro schema
    avro: bytes | None = None  # its payload as received


def event_record(profile_id: int, ev: StreamEvent, wire: PubSubWire | None = None) -> EventRecord:
    """The ``events`` row of a received event (the raw message as compact JSON). A
    CometD replay id is taken as sent; ``ingest`` keeps one no event can have out of its
    column (and says so). A Pub/Sub event (``wire``) keeps its replay id bytes, and in
    ``replay_id`` their value when they are 8 bytes (sorting and filters use it)."""
    return EventRecord._make(  # _make: tuple.__new__ itself, ~0.5 us less per event
        (
            profile_id,
            text_for_sqlite(ev.channel),
            ev.kind.value,
            _sent_replay_id(ev) if wire is None else wire.replay_value,
            text_for_sqlite(ev.event_uuid),
            _ms(ev.created_at),
            _ms(ev.received_at),
            text_for_sqlite(ev.change),
            text_for_sqlite(ev.summary),
            raw_json(ev.raw),
            None if wire is None else wire.replay_bytes,
            None if wire is None else text_for_sqlite(wire.schema_id),
            None if wire is None else wire.avro,
        )
    )
