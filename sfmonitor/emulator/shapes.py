"""Event message shapes, exactly as Salesforce delivers them (reference §3)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from ..timefmt import iso_from_ms


def schema_id(name: str) -> str:
    """A stable 22-character schema fingerprint, like ``dffQ2QLzDNHqwB8_sHMxdA``."""
    digest = hashlib.sha256(name.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def pushtopic_event(
    channel: str, replay_id: int, created_ms: int, change: str, sobject: dict[str, Any]
) -> dict[str, Any]:
    """§3.1: ``change`` is created, updated, deleted or undeleted."""
    return {
        "channel": channel,
        "data": {
            "event": {
                "createdDate": iso_from_ms(created_ms),
                "replayId": replay_id,
                "type": change,
            },
            "sobject": sobject,
        },
    }


def generic_event(channel: str, replay_id: int, created_ms: int, payload: str) -> dict[str, Any]:
    """§3.2: the payload is an opaque string."""
    return {
        "channel": channel,
        "data": {
            "event": {"createdDate": iso_from_ms(created_ms), "replayId": replay_id},
            "payload": payload,
        },
    }


def platform_event(
    channel: str,
    replay_id: int,
    created_ms: int,
    created_by: str,
    fields: dict[str, Any],
    event_uuid: str | None = None,
) -> dict[str, Any]:
    """§3.3: no data.event.createdDate; the time is payload.CreatedDate. ``event_uuid``
    is the one the publish call answered with (a new one when not given)."""
    payload = {"CreatedDate": iso_from_ms(created_ms), "CreatedById": created_by, **fields}
    return {
        "channel": channel,
        "data": {
            "schema": schema_id(channel),
            "payload": payload,
            "event": {"EventUuid": event_uuid or str(uuid.uuid4()), "replayId": replay_id},
        },
    }


def change_event(
    channel: str,
    replay_id: int,
    header: dict[str, Any],
    fields: dict[str, Any],
    with_uuid: bool,
) -> dict[str, Any]:
    """§3.4: ``header`` is the ChangeEventHeader (commitTimestamp is integer epoch ms)."""
    event: dict[str, Any] = {"replayId": replay_id}
    if with_uuid:
        event = {"EventUuid": str(uuid.uuid4()), "replayId": replay_id}
    return {
        "channel": channel,
        "data": {
            "schema": schema_id(channel),
            "payload": {"ChangeEventHeader": header, **fields},
            "event": event,
        },
    }


def monitoring_event(
    channel: str, replay_id: int, created_ms: int, fields: dict[str, Any], created_date: bool
) -> dict[str, Any]:
    """§3.5: real-time event monitoring; the time is payload.EventDate."""
    event_uuid = str(uuid.uuid4())
    payload: dict[str, Any] = {
        "EventDate": iso_from_ms(created_ms),
        "EventUuid": event_uuid,
        **fields,
    }
    if created_date:
        payload["CreatedDate"] = iso_from_ms(created_ms)
    return {
        "channel": channel,
        "data": {
            "schema": schema_id(channel),
            "payload": payload,
            "event": {"EventUuid": event_uuid, "replayId": replay_id},
        },
    }
