"""Who has a CometD session: ``/meta/handshake`` (a new clientId, the ``BAYEUX_BROWSER``
cookie, the org's concurrent-client limit), the check every later message passes (the
clientId is known, the token valid and the same user's, the cookie sent back), and
``/meta/disconnect`` (reference §2.4, §4.2)."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from .bayeux_replies import Message, json_response, reply
from .config import EmulatorConfig
from .faults import BUSY_REASON, FaultPlan
from .org import AuthInvalid, Org
from .sessions import Session


class SessionDesk:
    """Opens, checks and ends the sessions of one org."""

    def __init__(self, org: Org, faults: FaultPlan) -> None:
        self.org = org
        self.faults = faults

    @property
    def config(self) -> EmulatorConfig:
        return self.org.config

    # --- handshake -------------------------------------------------------------------------

    def handshake_batch(
        self, messages: list[Message], token: str | None, browser: str | None
    ) -> web.Response:
        if len(messages) != 1:
            # CometD: a handshake must be alone in its batch.
            return json_response(
                [
                    reply(
                        m,
                        successful=False,
                        error="400::Handshake must be the only message in its batch",
                    )
                    for m in messages
                ]
            )
        msg = messages[0]
        answer, new_browser = self._handshake(msg, token, browser)
        response = json_response([answer])
        if new_browser:
            response.set_cookie("BAYEUX_BROWSER", new_browser, path="/", httponly=True)
            if self.config.set_sticky_cookie:
                response.set_cookie("sfdc-stream", "!" + secrets.token_urlsafe(24), path="/")
        return response

    def _denied(self, msg: Message, reason: str, error: str = "403::Handshake denied") -> Message:
        return reply(
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
            return self._denied(msg, BUSY_REASON), None
        if token is None:
            return self._denied(msg, "401::Request requires authentication"), None
        try:
            username = self.org.check_token(token)
        except AuthInvalid:
            return self._denied(msg, "401::Authentication invalid"), None
        types = msg.get("supportedConnectionTypes")
        if isinstance(types, list) and "long-polling" not in types:
            return reply(
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
                return self._denied(msg, text), None
            return self._denied(msg, text, error=text), None
        browser = browser or secrets.token_urlsafe(24)
        session = self.org.new_session(username, browser)
        answer = reply(
            msg,
            clientId=session.client_id,
            version="1.0",
            minimumVersion="1.0",
            supportedConnectionTypes=["long-polling"],
            successful=True,
        )
        if self.config.handshake_ext_always or (msg.get("ext") or {}).get("replay"):
            answer["ext"] = {"replay": True, "payload.format": True}
        return answer, browser

    # --- the check of every later message ----------------------------------------------------

    def check(
        self, msg: Message, token: str | None, browser: str | None, **echo: Any
    ) -> tuple[Session | None, Message | None]:
        """The message's session, or the error reply saying why it has none; ``echo`` is
        copied into that reply (a subscribe's ``subscription``)."""
        session = self.org.session(msg.get("clientId"))
        if session is None:
            return None, reply(
                msg,
                **echo,
                advice={"reconnect": self.config.unknown_client_advice, "interval": 0},
                error="403::Unknown client",
                successful=False,
            )
        try:
            username = self.org.check_token(token)
        except AuthInvalid:
            return None, reply(
                msg,
                clientId=session.client_id,
                **echo,
                advice={"reconnect": "none", "interval": 0},
                error="401::Authentication invalid",
                successful=False,
            )
        if username != session.username:
            return None, reply(
                msg,
                clientId=session.client_id,
                **echo,
                successful=False,
                error="400::Authenticated user id does not match the session's user id",
            )
        if self.config.require_browser_cookie and browser != session.browser:
            return None, reply(
                msg,
                clientId=session.client_id,
                **echo,
                successful=False,
                advice={"reconnect": "handshake", "interval": 0},
                error=f"400::Client {session.client_id} has established a session, "
                f"but no BAYEUX_BROWSER cookie present",
            )
        return session, None

    # --- disconnect --------------------------------------------------------------------------

    def disconnect(self, msg: Message, token: str | None, browser: str | None) -> Message:
        session, error = self.check(msg, token, browser)
        if session is None:
            assert error is not None
            return error
        self.org.end_session(session)
        return reply(msg, clientId=session.client_id, successful=True)
