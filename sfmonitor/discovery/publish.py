"""Publish a test event: a platform event by REST (``POST …/sobjects/<Name>__e/``), or a
generic streaming push (``POST …/sobjects/StreamingChannel/<Id>/push``, body
``{"pushEvents": [{"payload": "…", "userIds": []}]}``, Streaming Channel Push REST API).

Publishing a platform event by REST is asynchronous: Salesforce answers ``success`` with
``errors: [{"statusCode": "OPERATION_ENQUEUED", "message": "<EventUuid>"}]``, and that
EventUuid is the delivered event's ``data.event.EventUuid``; the app uses it to highlight
the event when it arrives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..auth.http import OAuthHttp
from .forms import EventForm, form_from_describe
from .rest import RestClient, RestError, TokenSource

MAX_PUSH_PAYLOAD = 3000  # "Cannot exceed 3,000 single-byte characters"


class PublishError(Exception):
    """Salesforce refused a publish, or the request could not be made (``code`` is
    Salesforce's errorCode or ``INVALID_INPUT`` for what was refused before sending)."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = ()) -> None:
        self.code = code
        self.message = message
        self.fields = tuple(fields)
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class PublishResult:
    """Salesforce's answer to a platform event publish."""

    id: str
    success: bool
    event_uuid: str | None  # from the OPERATION_ENQUEUED status
    errors: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PushResult:
    """Salesforce's answer to a generic push (one per pushed payload)."""

    channel_id: str
    fanout_count: int  # -1: broadcast to every subscriber; 0: no subscriber online
    user_online_status: Mapping[str, bool]


def _client(
    instance_url: str, token: str | TokenSource, api_version: str | None, http: OAuthHttp | None
) -> RestClient:
    return RestClient(instance_url, token, api_version, http)


def _event_name(name: str) -> str:
    event = name.removeprefix("/event/")
    if not event or "/" in event or not event.replace("_", "").isalnum():
        raise PublishError("INVALID_INPUT", f"{name!r} is not a platform event name")
    return event


async def describe_event(
    instance_url: str,
    token: str | TokenSource,
    name: str,
    api_version: str | None = None,
    *,
    http: OAuthHttp | None = None,
) -> EventForm:
    """The publish form of a platform event (``Order_Placed__e`` or its channel)."""
    client = _client(instance_url, token, api_version, http)
    return form_from_describe(await client.get(f"sobjects/{_event_name(name)}/describe"))


async def publish_event(
    instance_url: str,
    token: str | TokenSource,
    name: str,
    payload: Mapping[str, Any],
    api_version: str | None = None,
    *,
    http: OAuthHttp | None = None,
) -> PublishResult:
    """Publish one platform event; PublishError with Salesforce's words when refused."""
    client = _client(instance_url, token, api_version, http)
    try:
        reply = await client.post(f"sobjects/{_event_name(name)}/", dict(payload))
    except RestError as exc:
        raise PublishError(exc.code or f"HTTP {exc.status}", exc.message) from None
    if not isinstance(reply, dict):
        raise PublishError("UNEXPECTED_REPLY", "the publish reply is not a JSON object")
    errors = tuple(e for e in reply.get("errors") or () if isinstance(e, dict))
    enqueued = next((e for e in errors if e.get("statusCode") == "OPERATION_ENQUEUED"), None)
    uuid = enqueued.get("message") if enqueued else None
    return PublishResult(
        id=str(reply.get("id") or ""),
        success=bool(reply.get("success")),
        event_uuid=uuid if isinstance(uuid, str) and uuid else None,
        errors=errors,
        raw=reply,
    )


async def streaming_channel_id(client: RestClient, channel: str) -> str:
    """The record id of a generic channel (``/u/name``); PublishError when there is none."""
    if not channel.startswith("/u/") or "'" in channel or "\\" in channel:
        raise PublishError("INVALID_INPUT", f"{channel!r} is not a generic channel (/u/...)")
    records = await client.query_all(
        f"SELECT Id, Name FROM StreamingChannel WHERE Name = '{channel}'"
    )
    if not records:
        raise PublishError("NOT_FOUND", f"no StreamingChannel named {channel}")
    return str(records[0].get("Id"))


async def push_generic(
    instance_url: str,
    token: str | TokenSource,
    channel: str,
    payload: str,
    user_ids: Sequence[str] = (),
    api_version: str | None = None,
    *,
    http: OAuthHttp | None = None,
) -> PushResult:
    """Push ``payload`` (text, at most 3,000 characters) on a generic channel."""
    if len(payload.encode()) > MAX_PUSH_PAYLOAD:
        raise PublishError("INVALID_INPUT", "a push payload is at most 3,000 characters")
    client = _client(instance_url, token, api_version, http)
    try:
        rid = await streaming_channel_id(client, channel)
        body = {"pushEvents": [{"payload": payload, "userIds": list(user_ids)}]}
        reply = await client.post(f"sobjects/StreamingChannel/{quote(rid)}/push", body)
    except RestError as exc:
        raise PublishError(exc.code or f"HTTP {exc.status}", exc.message) from None
    first = reply[0] if isinstance(reply, list) and reply and isinstance(reply[0], dict) else {}
    status = first.get("userOnlineStatus")
    return PushResult(
        channel_id=rid,
        fanout_count=int(first.get("fanoutCount", 0)),
        user_online_status=dict(status) if isinstance(status, dict) else {},
    )


async def publish(
    instance_url: str,
    token: str | TokenSource,
    channel: str,
    payload: Any,
    api_version: str | None = None,
    *,
    http: OAuthHttp | None = None,
) -> PublishResult | PushResult:
    """Publish on a channel by its name: ``/event/X__e`` takes a JSON object, ``/u/X``
    a text (anything else is sent as its JSON text)."""
    if channel.startswith("/u/"):
        text = payload if isinstance(payload, str) else _json_text(payload)
        return await push_generic(instance_url, token, channel, text, (), api_version, http=http)
    if channel.startswith("/event/") and channel.endswith("__e"):
        if not isinstance(payload, Mapping):
            raise PublishError("INVALID_INPUT", "a platform event payload is a JSON object")
        return await publish_event(instance_url, token, channel, payload, api_version, http=http)
    raise PublishError(
        "INVALID_INPUT",
        f"{channel}: only custom platform events (/event/X__e) and generic channels (/u/X) "
        "can be published to",
    )


def _json_text(payload: Any) -> str:
    import orjson

    return orjson.dumps(payload).decode()
