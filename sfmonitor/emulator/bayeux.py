"""The CometD endpoint ``/cometd/<version>``: Bayeux over HTTP long-polling, as Salesforce
speaks it (reference §2 and §4).

This module reads a request (the version in its path, its token and cookie, a batch of
messages), hands each message to the desk of its meta channel and writes the batch reply;
the desks live beside it: ``bayeux_sessions`` (handshake, the session check, disconnect),
``bayeux_connect`` (the long poll), ``bayeux_subscribe``; ``bayeux_replies`` shapes replies.
"""

from __future__ import annotations

import re

import orjson
from aiohttp import web

from .bayeux_connect import DuplicateConnect, LongPoll
from .bayeux_replies import JSON, Message, json_response, reply
from .bayeux_sessions import SessionDesk
from .bayeux_subscribe import SubscribeDesk
from .config import EmulatorConfig
from .faults import FaultPlan
from .org import Org

__all__ = ["CometdEndpoint", "DuplicateConnect", "bearer"]

_VERSION = re.compile(r"^\d+\.\d$")


def bearer(request: web.Request) -> str | None:
    """The token from ``Authorization``: ``Bearer x``, ``OAuth x`` or a bare ``x`` (§2.2)."""
    value = request.headers.get("Authorization", "").strip()
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "oauth"):
        return rest.strip()
    return value


class CometdEndpoint:
    """Answers one HTTP request carrying a batch of Bayeux messages."""

    def __init__(self, org: Org, faults: FaultPlan) -> None:
        self.org = org
        self.faults = faults
        self.sessions = SessionDesk(org, faults)
        self.polls = LongPoll(org, faults, self.sessions)
        self.subscriptions = SubscribeDesk(org, faults, self.sessions)

    @property
    def config(self) -> EmulatorConfig:
        return self.org.config

    async def handle(self, request: web.Request) -> web.StreamResponse:
        version_error = self._version_error(request.match_info.get("version", ""))
        body = await request.read()
        messages, parse_error = self._parse(body)
        if parse_error:
            return json_response([{"successful": False, "error": parse_error}], status=400)
        if version_error:
            return json_response(
                [reply(m, successful=False, error=version_error) for m in messages], status=400
            )
        if len(body) > self.config.max_request_bytes:
            return json_response(
                [
                    reply(m, successful=False, error="413::Maximum Request Size Exceeded")
                    for m in messages
                ]
            )
        token = bearer(request)
        browser = request.cookies.get("BAYEUX_BROWSER")
        if any(m.get("channel") == "/meta/handshake" for m in messages):
            return self.sessions.handshake_batch(messages, token, browser)
        events: list[bytes] = []
        replies: list[Message] = []
        alone = len(messages) == 1
        for msg in messages:
            channel = msg.get("channel")
            if channel == "/meta/connect":
                answer, batch = await self.polls.connect(msg, token, browser, alone)
                events.extend(batch)
                replies.append(answer)
            elif channel == "/meta/subscribe":
                replies.append(self.subscriptions.subscribe(msg, token, browser))
            elif channel == "/meta/unsubscribe":
                replies.append(self.subscriptions.unsubscribe(msg, token, browser))
            elif channel == "/meta/disconnect":
                replies.append(self.sessions.disconnect(msg, token, browser))
            elif not isinstance(channel, str) or not channel:
                replies.append(
                    reply(msg, successful=False, error="400::Channel name not specified")
                )
            else:
                replies.append(reply(msg, successful=False, error="403::Publish denied"))
        return self._batch_response(events, replies)

    def _batch_response(self, events: list[bytes], replies: list[Message]) -> web.Response:
        encoded = [orjson.dumps(r) for r in replies]
        parts = events + encoded if self.config.events_before_connect_reply else encoded + events
        return web.Response(body=b"[" + b",".join(parts) + b"]", content_type=JSON)

    def _version_error(self, version: str) -> str | None:
        uri = f"'/cometd/{self.config.api_versions[-1]}'"
        if not version:
            return f"400::API version in the URI is mandatory. URI format: {uri}"
        try:
            ok = bool(_VERSION.match(version)) and float(version) >= self.config.min_api_version
        except ValueError:
            ok = False
        if not ok:
            return (
                f"400::Unsupported API version. Only API versions "
                f"'{self.config.min_api_version}' and later are supported. URI format: {uri}"
            )
        return None

    @staticmethod
    def _parse(body: bytes) -> tuple[list[Message], str | None]:
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError as exc:
            return [], f"400::Invalid JSON message: {exc}"
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not data or not all(isinstance(m, dict) for m in data):
            return [], "400::The request must carry a Bayeux message or an array of them"
        return data, None
