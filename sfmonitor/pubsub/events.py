"""Received Pub/Sub events as the same ``StreamEvent`` values the CometD path produces.

The Avro record is reshaped into the CometD message of that event kind (``data.payload``,
``data.event.replayId``/``EventUuid``, ``data.schema``): epoch-ms date-times become
Salesforce's ISO text, CDC bitmaps become field names, and a CDC event keeps only what
changed (Pub/Sub sends every field, unchanged ones as null; CometD leaves them out). The raw
Avro bytes, the replay id bytes and the schema id are kept beside it, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sfmonitor.streaming.events import StreamEvent, change_of, kind_of, summarize
from sfmonitor.timefmt import iso_from_ms

from .replay import replay_value
from .schemas import Schema

BITMAP_FIELDS = ("changedFields", "nulledFields", "diffFields")


@dataclass(frozen=True, slots=True)
class PubSubEvent:
    """One received event: the normalized ``event`` and what came on the wire."""

    event: StreamEvent
    replay_id: bytes  # opaque; compare and store these bytes
    schema_id: str
    payload: bytes  # the Avro binary exactly as received
    event_id: str  # ProducerEvent.id (the EventUuid)

    @property
    def topic(self) -> str:
        return self.event.channel

    @property
    def replay_value(self) -> int | None:
        return replay_value(self.replay_id)


def _ms(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _change_payload(schema: Schema, record: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    header = record.pop("ChangeEventHeader", None) or {}
    for key in BITMAP_FIELDS:
        header[key] = schema.field_names(header.get(key) or [])
    nulled = header["nulledFields"]
    payload: dict[str, Any] = {"ChangeEventHeader": header}
    for name, value in record.items():
        if value is None:
            if name in nulled:
                payload[name] = None
            continue  # unchanged: Pub/Sub sends null, CometD leaves it out
        if isinstance(value, dict):
            value = {
                k: v for k, v in value.items() if v is not None or f"{name}.{k}" in nulled
            } or (None if name in nulled else {})
            if value == {}:
                continue
        elif name in schema.datetime_fields and (ms := _ms(value)) is not None:
            value = iso_from_ms(ms)
        payload[name] = value
    return payload, _ms(header.get("commitTimestamp"))


def _plain_payload(schema: Schema, record: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    payload = dict(record)
    created: int | None = None
    for name in schema.datetime_fields:
        ms = _ms(payload.get(name))
        if ms is not None:
            payload[name] = iso_from_ms(ms)
            if created is None or name == "CreatedDate":
                created = ms
    return payload, created


def to_message(
    topic: str, schema: Schema, record: dict[str, Any], replay_id: bytes, event_id: str
) -> tuple[dict[str, Any], int | None]:
    """The CometD-shaped message of a decoded record, and its creation time in epoch ms."""
    if schema.change_event:
        payload, created = _change_payload(schema, record)
    else:
        payload, created = _plain_payload(schema, record)
    event: dict[str, Any] = {"replayId": replay_value(replay_id)}
    if event_id:
        event["EventUuid"] = event_id
    message = {
        "channel": topic,
        "data": {"schema": schema.schema_id, "payload": payload, "event": event},
    }
    return message, created


def build_event(
    topic: str,
    schema: Schema,
    payload_bytes: bytes,
    replay_id: bytes,
    event_id: str,
    received_at: datetime,
) -> PubSubEvent:
    """Decode one ConsumerEvent; an undecodable payload still becomes an event (with the
    error as its summary and its bytes kept), never a lost one."""
    try:
        record = schema.decode(payload_bytes)
        message, created_ms = to_message(topic, schema, record, replay_id, event_id)
    except Exception as exc:  # a payload the schema cannot read (Salesforce does not check)
        message = {
            "channel": topic,
            "data": {
                "schema": schema.schema_id,
                "event": {"replayId": replay_value(replay_id), "EventUuid": event_id},
                "error": f"payload not decodable with schema {schema.schema_id}: {exc}",
            },
        }
        created_ms = None
    data = message["data"]
    kind = kind_of(topic, data)
    created = (
        datetime.fromtimestamp(created_ms / 1000, tz=UTC) if created_ms is not None else received_at
    )
    summary = data["error"] if "error" in data else summarize(kind, topic, data)
    stream_event = StreamEvent(
        topic,
        kind,
        replay_value(replay_id),
        event_id or None,
        created,
        received_at,
        summary,
        message,
        change_of(kind, topic, data),
    )
    return PubSubEvent(stream_event, replay_id, schema.schema_id, payload_bytes, event_id)
