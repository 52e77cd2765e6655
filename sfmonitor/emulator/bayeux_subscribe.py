"""``/meta/subscribe`` and ``/meta/unsubscribe``: the channel name's checks, then the org's
(which knows channels, replay ids and PushTopic filters; reference §2.6, §4.3)."""

from __future__ import annotations

from .bayeux_replies import Message, reply
from .bayeux_sessions import SessionDesk
from .faults import BUSY_REASON, FaultPlan
from .org import ChannelError, Org


class SubscribeDesk:
    """Answers the subscribe and unsubscribe messages of one org's sessions."""

    def __init__(self, org: Org, faults: FaultPlan, desk: SessionDesk) -> None:
        self.org = org
        self.faults = faults
        self.desk = desk

    def subscribe(self, msg: Message, token: str | None, browser: str | None) -> Message:
        channel = msg.get("subscription")
        echo = {"subscription": channel} if channel is not None else {}
        if self.faults.take_busy():
            return reply(
                msg,
                **echo,
                successful=False,
                error="403::Subscribe denied",
                ext={"sfdc": {"failureReason": BUSY_REASON}},
            )
        session, error = self.desk.check(msg, token, browser, **echo)
        if session is None:
            assert error is not None
            return error
        if not isinstance(channel, str) or not channel:
            return reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error="400::Channel name not specified",
            )
        refused = _refused_name(channel)
        if refused:
            return reply(
                msg,
                clientId=session.client_id,
                subscription=channel,
                successful=False,
                error=refused,
            )
        ext = msg.get("ext")
        replay = ext.get("replay") if isinstance(ext, dict) else None
        try:
            self.org.subscribe(session, channel, replay)
        except ChannelError as exc:
            return reply(
                msg,
                clientId=session.client_id,
                subscription=channel,
                successful=False,
                error=str(exc),
            )
        return reply(msg, clientId=session.client_id, subscription=channel, successful=True)

    def unsubscribe(self, msg: Message, token: str | None, browser: str | None) -> Message:
        channel = msg.get("subscription")
        echo = {"subscription": channel} if channel is not None else {}
        session, error = self.desk.check(msg, token, browser, **echo)
        if session is None:
            assert error is not None
            return error
        if not isinstance(channel, str) or not channel:
            return reply(
                msg,
                clientId=session.client_id,
                successful=False,
                error="400::Channel name not specified",
            )
        self.org.unsubscribe(session, channel)
        return reply(msg, clientId=session.client_id, subscription=channel, successful=True)


def _refused_name(channel: str) -> str | None:
    """The error for a channel name no client may subscribe to, or None."""
    if not channel.startswith("/"):
        return "400::Channel subscriptions must start with a leading '/'"
    if channel.startswith("/meta/") or channel.startswith("/service/"):
        return "403::Restricted channel"
    return None
