"""The REST endpoints a streaming user touches (reference §1.9): API versions, limits,
platform-event publish, generic push, PushTopic and plain records whose changes fire events.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from .bayeux import bearer
from .org import AuthInvalid, Org
from .organization import query_organization

JSON = "application/json"
_VERSION = re.compile(r"^v(\d+\.\d)$")
_OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

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


class RestApi:
    def __init__(self, org: Org) -> None:
        self.org = org

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
        if parts == ["limits"] and method == "GET":
            return _json(self.org.limits())
        if parts == ["query"] and method == "GET":
            return self._query(request.query.get("q", ""))
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
        if method == "POST" and len(rest) == 2 and rest[1] == "push":
            channel = self.org.streaming_channels.get(rest[0])
            if channel is None:
                return _errors("NOT_FOUND", "The requested resource does not exist", 404)
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
                fanout = len(self.org.subscribers.get(channel, []))
                results.append({"fanoutCount": fanout, "userOnlineStatus": {}})
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

    def _query(self, soql: str) -> web.Response:
        """Only what channel discovery needs: all PushTopic or StreamingChannel records."""
        m = re.search(r"\bFROM\s+(\w+)", soql, re.IGNORECASE)
        obj = m.group(1).lower() if m else ""
        if obj == "pushtopic":
            records = [t.record() for t in self.org.push_topics.values()]
        elif obj == "streamingchannel":
            records = [
                {"attributes": {"type": "StreamingChannel"}, "Id": rid, "Name": n}
                for rid, n in self.org.streaming_channels.items()
            ]
        elif obj == "organization":
            return _json(*query_organization(self.org, soql))
        else:
            return _errors(
                "MALFORMED_QUERY",
                "this emulator answers queries on PushTopic and StreamingChannel only",
            )
        return _json({"totalSize": len(records), "done": True, "records": records})
