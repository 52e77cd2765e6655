"""The REST endpoints a streaming user touches (reference §1.9): API versions, limits,
platform-event publish, generic push, PushTopic and plain records whose changes fire events;
and what channel discovery reads: queries and Tooling queries with paging, describeGlobal
and sobject describes (``queries``, ``describe``).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from . import describe, event_publish
from .bayeux import bearer
from .config import User
from .org import AuthInvalid, Org
from .organization import query_organization
from .queries import INSUFFICIENT_ACCESS, QueryService

JSON = "application/json"
_VERSION = re.compile(r"^v(\d+\.\d)$")
_OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_ORGANIZATION = re.compile(r"\bFROM\s+Organization\b", re.IGNORECASE)

_SEASONS = ("Winter", "Spring", "Summer")


def release_name(version: str) -> str:
    """The release of an API version: three a year, 62.0 = Winter '25, 68.0 = Winter '27."""
    steps = int(float(version)) - 62
    return f"{_SEASONS[steps % 3]} '{25 + steps // 3:02d}"


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type=JSON)


def _errors(code: str, message: str, status: int = 400) -> web.Response:
    return _json([{"message": message, "errorCode": code}], status)


def _created(record_id: str, errors: list[dict[str, Any]] | None = None) -> web.Response:
    return _json({"id": record_id, "success": True, "errors": errors or []}, 201)


def _batch(request: web.Request) -> int | None:
    """The page size a client asks for (``Sforce-Query-Options: batchSize=N``)."""
    m = _BATCH.search(request.headers.get("Sforce-Query-Options", ""))
    return int(m.group(1)) if m else None


class RestApi:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.queries = QueryService(org)

    async def versions(self, request: web.Request) -> web.Response:
        return _json(
            [
                {
                    "label": release_name(v),
                    "url": f"/services/data/v{v}",
                    "version": v,
                }
                for v in self.org.config.api_versions
            ]
        )

    async def userinfo(self, request: web.Request) -> web.Response:
        try:
            username = self.org.check_token(bearer(request))
        except AuthInvalid:
            return web.Response(status=403, text="Bad_OAuth_Token")
        user = self.org.users[username]
        base = self.org.config.public_url or f"{request.scheme}://{request.host}"
        return _json(
            {
                "sub": f"{base}/id/{self.org.org_id}/{user.user_id}",
                "user_id": user.user_id,
                "organization_id": self.org.org_id,
                "preferred_username": username,
                "name": user.display_name,
            }
        )

    async def handle(self, request: web.Request) -> web.Response:
        m = _VERSION.match(request.match_info["version"])
        if not m or m.group(1) not in self.org.config.api_versions:
            return _errors("NOT_FOUND", "The requested resource does not exist", 404)
        try:
            username = self.org.check_token(bearer(request))
        except AuthInvalid:
            return _errors("INVALID_SESSION_ID", "Session expired or invalid", 401)
        parts = [p for p in request.match_info["tail"].split("/") if p]
        method = request.method
        self.org.api_requests += 1
        user = self.org.users[username]
        if parts == ["limits"] and method == "GET":
            if not user.view_setup:  # the resource needs View Setup and Configuration
                return _errors(self.org.config.limits_refusal, INSUFFICIENT_ACCESS, 403)
            return _json(self.org.limits())
        tooling = parts[:1] == ["tooling"]
        api = parts[1:] if tooling else parts
        if api[:1] == ["query"] and len(api) <= 2 and method == "GET":
            return self._query(request, user, m.group(1), tooling, api[1:])
        if parts == ["sobjects"] and method == "GET":
            return _json(describe.describe_global(self.org, user, m.group(1)))
        if len(parts) == 3 and parts[0] == "sobjects" and parts[2] == "describe":
            if method != "GET":
                return _errors("METHOD_NOT_ALLOWED", "HTTP Method not allowed", 405)
            found = describe.describe(self.org, user, parts[1], m.group(1))
            if found is None:
                return _errors("NOT_FOUND", "The requested resource does not exist", 404)
            return _json(found)
        if len(parts) >= 2 and parts[0] == "sobjects" and _OBJECT.match(parts[1]):
            body: Any = None
            if method in ("POST", "PATCH"):
                try:
                    body = orjson.loads(await request.read())
                except orjson.JSONDecodeError:
                    return _errors("JSON_PARSER_ERROR", "The request body is not valid JSON")
                if not isinstance(body, dict):
                    return _errors(
                        "JSON_PARSER_ERROR", "Can not deserialize SObject out of a non-object value"
                    )
            return self._sobjects(method, parts[1], parts[2:], body, username)
        return _errors("NOT_FOUND", "The requested resource does not exist", 404)

    # --- sobjects ----------------------------------------------------------------------------

    def _sobjects(
        self, method: str, name: str, rest: list[str], body: Any, username: str
    ) -> web.Response:
        if name.endswith("__e"):
            if method != "POST" or rest:
                return _errors("METHOD_NOT_ALLOWED", "HTTP Method not allowed", 405)
            if name not in self.org.platform_events:
                return _errors("NOT_FOUND", "The requested resource does not exist", 404)
            definition = self.org.catalog.events.get(name)
            if definition is not None and self.org.config.publish_checks_fields:
                body, errors = event_publish.check(definition, body)
                if errors:
                    return _json(errors, 400)
            event = self.org.publish_platform_event(name, body, username)
            enqueued: list[dict[str, Any]] = [
                {"statusCode": "OPERATION_ENQUEUED", "message": event.event_uuid, "fields": []}
            ]
            # the EventUuid lets a publisher match its call to the event delivered
            return _created(
                self.org.ids.new("e00"), enqueued if self.org.config.publish_enqueued_status else []
            )
        if name == "StreamingChannel":
            return self._streaming_channel(method, rest, body)
        if name == "PushTopic":
            return self._push_topic(method, rest, body)
        return self._record(method, name, rest, body, username)

    def _streaming_channel(self, method: str, rest: list[str], body: Any) -> web.Response:
        if method == "POST" and not rest:
            try:
                return _created(self.org.create_streaming_channel(str(body.get("Name", ""))))
            except ValueError as exc:
                code, _, message = str(exc).partition(":")
                return _errors(code, message)
        if len(rest) == 2 and rest[1] == "push" and method in ("GET", "POST"):
            channel = self.org.streaming_channels.get(rest[0])
            if channel is None:
                return _errors("NOT_FOUND", "The requested resource does not exist", 404)
            if method == "GET":
                return _json({"OnlineUserIds": self._online(channel), "ChannelName": channel})
            events = body.get("pushEvents")
            if not isinstance(events, list) or not events:
                return _errors("INVALID_INPUT", "pushEvents must be a non-empty array")
            results = []
            for item in events:
                payload = item.get("payload") if isinstance(item, dict) else None
                if not isinstance(payload, str) or len(payload) > 3000:
                    return _errors(
                        "INVALID_INPUT", "payload must be a string of at most 3000 characters"
                    )
                self.org.publish_generic(channel, payload)
                results.append(self._push_result(channel, item.get("userIds") or []))
            return _json(results)
        if method == "GET" and not rest:
            return _json(
                {
                    "recentItems": [
                        {"attributes": {"type": "StreamingChannel"}, "Id": rid, "Name": name}
                        for rid, name in self.org.streaming_channels.items()
                    ]
                }
            )
        return _errors("METHOD_NOT_ALLOWED", "HTTP Method not allowed", 405)

    def _online(self, channel: str) -> list[str]:
        """User ids of the sessions subscribed to a generic channel."""
        users = self.org.users
        ids = {
            users[s.username].user_id
            for s, _ in self.org.subscribers.get(channel, [])
            if s.username in users
        }
        return sorted(ids)

    def _push_result(self, channel: str, user_ids: list[Any]) -> dict[str, Any]:
        """The push resource's answer: a broadcast reaches every subscriber (fanoutCount
        -1, or 0 with none); a push to listed users counts those online. Delivery itself
        is a broadcast here (the emulator does not target users)."""
        online = set(self._online(channel))
        if user_ids:
            status = {str(u): str(u) in online for u in user_ids}
            return {"fanoutCount": sum(status.values()), "userOnlineStatus": status}
        subscribers = len(self.org.subscribers.get(channel, []))
        if subscribers and self.org.config.push_broadcast_fanout_minus_one:
            return {"fanoutCount": -1, "userOnlineStatus": {}}
        return {"fanoutCount": subscribers, "userOnlineStatus": {}}

    def _push_topic(self, method: str, rest: list[str], body: Any) -> web.Response:
        if method == "POST" and not rest:
            try:
                return _created(self.org.create_push_topic(body).id)
            except ValueError as exc:
                code, _, message = str(exc).partition(":")
                return _errors(code, message)
        if method == "GET" and not rest:
            return _json(
                {
                    "objectDescribe": {
                        "name": "PushTopic",
                        "keyPrefix": "0IF",
                        "label": "Push Topic",
                    },
                    "recentItems": [t.record() for t in self.org.push_topics.values()],
                }
            )
        topic = next((t for t in self.org.push_topics.values() if rest and t.id == rest[0]), None)
        if topic is None or len(rest) != 1:
            return _errors("NOT_FOUND", "The requested resource does not exist", 404)
        if method == "GET":
            return _json(topic.record())
        if method == "DELETE":
            del self.org.push_topics[topic.name]
            return web.Response(status=204)
        if method == "PATCH":
            if "IsActive" in body:
                topic.is_active = bool(body["IsActive"])
            if "Description" in body:
                topic.description = str(body["Description"])
            return web.Response(status=204)
        return _errors("METHOD_NOT_ALLOWED", "HTTP Method not allowed", 405)

    def _record(
        self, method: str, sobject: str, rest: list[str], body: Any, username: str
    ) -> web.Response:
        if method == "POST" and not rest:
            return _created(self.org.create_record(sobject, body, username))
        if len(rest) != 1:
            return _errors("NOT_FOUND", "The requested resource does not exist", 404)
        rid = rest[0]
        record = self.org.records.get(rid)
        if record is None or record.deleted or record.sobject != sobject:
            return _errors("NOT_FOUND", "The requested resource does not exist", 404)
        if method == "GET":
            return _json({"attributes": {"type": sobject}, **record.fields})
        if method == "PATCH":
            self.org.update_record(rid, body, username)
            return web.Response(status=204)
        if method == "DELETE":
            self.org.delete_record(rid, username)
            return web.Response(status=204)
        return _errors("METHOD_NOT_ALLOWED", "HTTP Method not allowed", 405)

    def _query(
        self, request: web.Request, user: User, version: str, tooling: bool, locator: list[str]
    ) -> web.Response:
        """A query (``?q=``) or its next page (``query/<locator>``), data or Tooling API."""
        batch = _batch(request)
        if locator:
            body, status = self.queries.more(
                locator[0], tooling=tooling, user=user, version=version, batch=batch
            )
            return _json(body, status)
        soql = request.query.get("q", "")
        if not tooling and _ORGANIZATION.search(soql):
            return _json(*query_organization(self.org, soql))
        body, status = self.queries.query(
            soql, tooling=tooling, user=user, version=version, batch=batch
        )
        return _json(body, status)
