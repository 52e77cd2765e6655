"""The CometD endpoint ``/cometd/<version>``: Bayeux over HTTP long-polling, as Salesforce
speaks it (reference §2 and §4).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any

import orjson
from aiohttp import web

from .config import EmulatorConfig
from .faults import BUSY_REASON, FaultPlan
from .org import AuthInvalid, ChannelError, Org
from .sessions import Session

JSON = "application/json"
_VERSION = re.compile(r"^\d+\.\d$")
_RETRY_ADVICE = {"interval": 0, "reconnect": "retry"}

Message = dict[str, Any]


class DuplicateConnect(Exception):
    """A newer /meta/connect for the same session superseded this held one."""


def bearer(request: web.Request) -> str | None:
    """The token from ``Authorization``: ``Bearer x``, ``OAuth x`` or a bare ``x`` (§2.2)."""
    value = request.headers.get("Authorization", "").strip()
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "oauth"):
        return rest.strip()
    return value


def _reply(msg: Message, **fields: Any) -> Message:
    out: Message = {"channel": msg.get("channel")}
    if "id" in msg:
        out["id"] = msg["id"]
    out.update(fields)
    return out


def _json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type=JSON)


class CometdEndpoint:
    """Answers one HTTP request carrying a batch of Bayeux messages."""

    def __init__(self, org: Org, faults: FaultPlan) -> None:
        self.org = org
        self.faults = faults

    @property
    def config(self) -> EmulatorConfig:
        return self.org.config

    # --- request level ---------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        version_error = self._version_error(request.match_info.get("version", ""))
        body = await request.read()
        messages, parse_error = self._parse(body)
        if parse_error:
            return _json_response([{"successful": False, "error": parse_error}], status=400)
        if version_error:
            return _json_response(
                [_reply(m, successful=False, error=version_error) for m in messages], status=400
            )
        if len(body) > self.config.max_request_bytes:
            return _json_response(
                [
                    _reply(m, successful=False, error="413::Maximum Request Size Exceeded")
                    for m in messages
                ]
            )
        token = bearer(request)
        browser = request.cookies.get("BAYEUX_BROWSER")
        if any(m.get("channel") == "/meta/handshake" for m in messages):
            return self._handshake_batch(messages, token, browser)
        events: list[bytes] = []
        replies: list[Message] = []
        alone = len(messages) == 1
        for msg in messages:
            channel = msg.get("channel")
            if channel == "/meta/connect":
                reply, batch = await self._connect(msg, token, browser, alone)
                events.extend(batch)
                replies.append(reply)
            elif channel == "/meta/subscribe":
                replies.append(self._subscribe(msg, token, browser))
            elif channel == "/meta/unsubscribe":
                replies.append(self._unsubscribe(msg, token, browser))
            elif channel == "/meta/disconnect":
                replies.append(self._disconnect(msg, token, browser))
            elif not isinstance(channel, str) or not channel:
                replies.append(
                    _reply(msg, successful=False, error="400::Channel name not specified")
                )
            else:
                replies.append(_reply(msg, successful=False, error="403::Publish denied"))
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

    # --- handshake -------------------------------------------------------------------------

    def _handshake_batch(
        self, messages: list[Message], token: str | None, browser: str | None
    ) -> web.Response:
        if len(messages) != 1:
            # CometD: a handshake must be alone in its batch.
            return _json_response(
                [
                    _reply(
                        m,
                        successful=False,
                        error="400::Handshake must be the only message in its batch",
                    )
                    for m in messages
                ]
            )
        msg = messages[0]
        reply, new_browser = self._handshake(msg, token, browser)
        response = _json_response([reply])
        if new_browser:
            response.set_cookie("BAYEUX_BROWSER", new_browser, path="/", httponly=True)
            if self.config.set_sticky_cookie:
                response.set_cookie("sfdc-stream", "!" + secrets.token_urlsafe(24), path="/")
        return response

    def _handshake_denied(
        self, msg: Message, reason: str, error: str = "403::Handshake denied"
    ) -> Message:
        return _reply(
            msg,
            ext={"sfdc": {"failureReason": reason}, "replay": True, "payload.format": True},
            advice={"reconnect": "none", "interval": 0},
            error=error,
            successful=False,
        )

    def _handshake(
        self, msg: Message, token: str | None, browser: str | None
    ) -> tuple[Message, str | None]:
        if self.faults.take_busy():
            return self._handshake_denied(msg, BUSY_REASON), None
        if token is None:
            return self._handshake_denied(msg, "401::Request requires authentication"), None
        try:
            username = self.org.check_token(token)
        except AuthInvalid:
            return self._handshake_denied(msg, "401::Authentication invalid"), None
        types = msg.get("supportedConnectionTypes")
        if isinstance(types, list) and "long-polling" not in types:
            return _reply(
                msg,
                successful=False,
                error="400::Unsupported connection types",
                supportedConnectionTypes=["long-polling"],
                advice={"reconnect": "none", "interval": 0},
            ), None
        self.org.expire_overdue()
        if self.org.active_sessions() >= self.config.max_concurrent_clients:
            text = "403::Organization concurrent user limit exceeded"
            if self.config.concurrent_limit_as_failure_reason:
                return self._handshake_denied(msg, text), None
            return self._handshake_denied(msg, text, error=text), None
        browser = browser or secrets.token_urlsafe(24)
        session = self.org.new_session(username, browser)
        reply = _reply(
            msg,
            clientId=session.client_id,
            version="1.0",
            minimumVersion="1.0",
            supportedConnectionTypes=["long-polling"],
            successful=True,
        )
        if self.config.handshake_ext_always or (msg.get("ext") or {}).get("replay"):
            reply["ext"] = {"replay": True, "payload.format": True}
        return reply, browser

    # --- checks shared by the other meta channels ------------------------------------------------

    def _session_or_error(
        self, msg: Message, token: str | None, browser: str | None, **echo: Any
    ) -> tuple[Session | None, Message | None]:
        session = self.org.session(msg.get("clientId"))
        if session is None:
            return None, _reply(
                msg,
                **echo,
                advice={"reconnect": self.config.unknown_client_advice, "interval": 0},
                error="403::Unknown client",
                successful=False,
            )
        try:
            username = self.org.check_token(token)
        except AuthInvalid:
            return None, _reply(
                msg,
                clientId=session.client_id,
                **echo,
                advice={"reconnect": "none", "interval": 0},
                error="401::Authentication invalid",
                successful=False,
            )
        if username != session.username:
            return None, _reply(
                msg,
                clientId=session.client_id,
                **echo,
                successful=False,
                error="400::Authenticated user id does not match the session's user id",
            )
        if self.config.require_browser_cookie and browser != session.browser:
            return None, _reply(
                msg,
                clientId=session.client_id,
                **echo,
                successful=False,
                advice={"reconnect": "handshake", "interval": 0},
                error=f"400::Client {session.client_id} has established a session, "
                f"but no BAYEUX_BROWSER cookie present",
            )
        return session, None

    # --- connect ---------------------------------------------------------------------------

    async def _connect(
        self, msg: Message, token: str | None, browser: str | None, alone: bool
    ) -> tuple[Message, list[bytes]]:
        if self.faults.take_busy():
            return _reply(
                msg,
                clientId=msg.get("clientId"),
                successful=False,
                error="401::Authentication invalid",
                ext={"sfdc": {"failureReason": BUSY_REASON}},
                advice={"reconnect": "none", "interval": 0},
            ), []
        session, error = self._session_or_error(msg, token, browser)
        if session is None:
            assert error is not None
            return error, []
        ctype = msg.get("connectionType", "long-polling")
        if ctype != "long-polling":
            return _reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error=f"400::Invalid connection type {ctype}",
            ), []
        if not session.queue and self.org.session_over_allocation(session):
            return _reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error="403::Organization total events daily limit exceeded",
                advice={"reconnect": "none", "interval": 0},
            ), []
        advice: dict[str, Any] | None = None
        first = not session.connected_once
        if first:
            session.connected_once = True
            advice = {
                "interval": 0,
                "timeout": int(self.config.connect_timeout * 1000),
                "reconnect": "retry",
            }
        # Salesforce answers the first connect at once; stock CometD servers hold it too
        held = not first or self.config.hold_first_connect
        if held and not session.queue and alone and not self._client_wants_now(msg):
            if self._other_browser_poll(session):
                session.last_reply = time.monotonic()
                return _reply(
                    msg,
                    clientId=session.client_id,
                    successful=True,
                    advice={"multiple-clients": True, "reconnect": "retry", "interval": 2000},
                ), []
            await self._hold(session)
            if session.expired:
                _, error = self._session_or_error(msg, token, browser)
                assert error is not None
                return error, []
        events = session.take(self.config.max_events_per_reply)
        session.delivered += len(events)
        session.largest_reply = max(session.largest_reply, len(events))
        session.last_reply = time.monotonic()
        reply = _reply(msg, clientId=session.client_id, successful=True)
        if advice:
            reply["advice"] = advice
        return reply, events

    def _client_wants_now(self, msg: Message) -> bool:
        advice = msg.get("advice")
        return (
            self.config.honour_client_timeout_advice
            and isinstance(advice, dict)
            and advice.get("timeout") == 0
        )

    def _other_browser_poll(self, session: Session) -> bool:
        """maxSessionsPerBrowser: another session of this browser already holds a poll."""
        limit = self.config.max_sessions_per_browser
        if limit <= 0:
            return False
        holding = sum(
            1
            for s in self.org.sessions.values()
            if s is not session
            and s.browser == session.browser
            and s.held is not None
            and not s.held.done()
        )
        return holding >= limit

    async def _hold(self, session: Session) -> None:
        """Wait for events, the timeout, or the end of the session."""
        if session.held is not None and not session.held.done():
            session.held_generation += 1  # the older poll answers with an HTTP error
            session.held.set_result(None)
        generation = session.held_generation
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        session.held = future
        try:
            await asyncio.wait_for(asyncio.shield(future), self.config.connect_timeout)
        except TimeoutError:
            pass
        finally:
            if session.held is future:
                session.held = None
        if generation != session.held_generation:
            raise DuplicateConnect()
        if self.config.coalesce_delay > 0 and session.queue and not session.expired:
            await asyncio.sleep(self.config.coalesce_delay)

    # --- subscribe / unsubscribe / disconnect ---------------------------------------------

    def _subscribe(self, msg: Message, token: str | None, browser: str | None) -> Message:
        channel = msg.get("subscription")
        echo = {"subscription": channel} if channel is not None else {}
        if self.faults.take_busy():
            return _reply(
                msg,
                **echo,
                successful=False,
                error="403::Subscribe denied",
                ext={"sfdc": {"failureReason": BUSY_REASON}},
            )
        session, error = self._session_or_error(msg, token, browser, **echo)
        if session is None:
            assert error is not None
            return error
        if not isinstance(channel, str) or not channel:
            return _reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error="400::Channel name not specified",
            )
        if not channel.startswith("/"):
            return _reply(
                msg,
                clientId=session.client_id,
                subscription=channel,
                successful=False,
                error="400::Channel subscriptions must start with a leading '/'",
            )
        if channel.startswith("/meta/") or channel.startswith("/service/"):
            return _reply(
                msg,
                clientId=session.client_id,
                subscription=channel,
                successful=False,
                error="403::Restricted channel",
            )
        ext = msg.get("ext")
        replay = ext.get("replay") if isinstance(ext, dict) else None
        try:
            self.org.subscribe(session, channel, replay)
        except ChannelError as exc:
            return _reply(
                msg,
                clientId=session.client_id,
                subscription=channel,
                successful=False,
                error=str(exc),
            )
        return _reply(msg, clientId=session.client_id, subscription=channel, successful=True)

    def _unsubscribe(self, msg: Message, token: str | None, browser: str | None) -> Message:
        channel = msg.get("subscription")
        echo = {"subscription": channel} if channel is not None else {}
        session, error = self._session_or_error(msg, token, browser, **echo)
        if session is None:
            assert error is not None
            return error
        if not isinstance(channel, str) or not channel:
            return _reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error="400::Channel name not specified",
            )
        self.org.unsubscribe(session, channel)
        return _reply(msg, clientId=session.client_id, subscription=channel, successful=True)

    def _disconnect(self, msg: Message, token: str | None, browser: str | None) -> Message:
        session, error = self._session_or_error(msg, token, browser)
        if session is None:
            assert error is not None
            return error
        self.org.end_session(session)
        return _reply(msg, clientId=session.client_id, successful=True)
