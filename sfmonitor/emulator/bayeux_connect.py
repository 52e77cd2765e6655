"""``/meta/connect``, the long poll: answered at once when events wait (or for the first
connect, as Salesforce does), else held until events arrive, the timeout passes or the
session ends. A newer connect of the same session supersedes a held one (an HTTP error,
``DuplicateConnect``); a second browser tab polling gets ``multiple-clients`` advice
(reference §2.5)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .bayeux_replies import Message, reply
from .bayeux_sessions import SessionDesk
from .config import EmulatorConfig
from .faults import BUSY_REASON, FaultPlan
from .org import Org
from .sessions import Session


class DuplicateConnect(Exception):
    """A newer /meta/connect for the same session superseded this held one."""


class LongPoll:
    """Answers the ``/meta/connect`` messages of one org's sessions."""

    def __init__(self, org: Org, faults: FaultPlan, desk: SessionDesk) -> None:
        self.org = org
        self.faults = faults
        self.desk = desk

    @property
    def config(self) -> EmulatorConfig:
        return self.org.config

    async def connect(
        self, msg: Message, token: str | None, browser: str | None, alone: bool
    ) -> tuple[Message, list[bytes]]:
        """The connect reply and the event bodies that go with it."""
        session, refusal = self._admit(msg, token, browser)
        if session is None:
            assert refusal is not None
            return refusal, []
        advice = self._first_connect_advice(session)
        # Salesforce answers the first connect at once; stock CometD servers hold it too
        held = advice is None or self.config.hold_first_connect
        if held and not session.queue and alone and not self._client_wants_now(msg):
            if self._other_browser_poll(session):
                session.last_reply = time.monotonic()
                return reply(
                    msg,
                    clientId=session.client_id,
                    successful=True,
                    advice={"multiple-clients": True, "reconnect": "retry", "interval": 2000},
                ), []
            await self._hold(session)
            if session.expired:
                _, error = self.desk.check(msg, token, browser)
                assert error is not None
                return error, []
        events = session.take(self.config.max_events_per_reply)
        session.delivered += len(events)
        session.largest_reply = max(session.largest_reply, len(events))
        session.last_reply = time.monotonic()
        answer = reply(msg, clientId=session.client_id, successful=True)
        if advice:
            answer["advice"] = advice
        return answer, events

    def _admit(
        self, msg: Message, token: str | None, browser: str | None
    ) -> tuple[Session | None, Message | None]:
        """The session the connect may be answered for, or the refusal to send instead."""
        if self.faults.take_busy():
            return None, reply(
                msg,
                clientId=msg.get("clientId"),
                successful=False,
                error="401::Authentication invalid",
                ext={"sfdc": {"failureReason": BUSY_REASON}},
                advice={"reconnect": "none", "interval": 0},
            )
        session, error = self.desk.check(msg, token, browser)
        if session is None:
            return None, error
        ctype = msg.get("connectionType", "long-polling")
        if ctype != "long-polling":
            return None, reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error=f"400::Invalid connection type {ctype}",
            )
        if not session.queue and self.org.session_over_allocation(session):
            return None, reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error="403::Organization total events daily limit exceeded",
                advice={"reconnect": "none", "interval": 0},
            )
        return session, None

    def _first_connect_advice(self, session: Session) -> dict[str, Any] | None:
        """The advice of a session's first connect reply (None for the later ones)."""
        if session.connected_once:
            return None
        session.connected_once = True
        return {
            "interval": 0,
            "timeout": int(self.config.connect_timeout * 1000),
            "reconnect": "retry",
        }

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
