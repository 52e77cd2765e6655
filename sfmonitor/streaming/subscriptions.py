"""Subscriptions of a CometD session: subscribe and unsubscribe from any task, re-subscribe
every channel after a re-handshake from the last replay id handed out (reference §9), the
live-since resume of channels that have received nothing, stale replay ids, and the
per-channel bookkeeping of received messages (unreadable ones, unusable replay ids)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sfmonitor.timefmt import parse_time

from . import bayeux
from .batches import Rejected
from .bayeux import Batch, Message, error_of
from .errors import BayeuxError, ClientStateError, TransportError
from .http import ServerClock
from .phase import Phase
from .policy import Policy
from .replay import LiveSince, ReplayType, creation_time_of
from .state import ChannelChange, ChannelStatus, ConnectionState, GapNotice
from .transport import Transport

if TYPE_CHECKING:
    from .session import Hooks

log = logging.getLogger(__name__)


@dataclass
class Channel:
    """A subscription the caller wants; it survives re-handshakes."""

    name: str
    replay: int | None = None  # explicit replay asked by the caller, used once
    live_since: float | None = None  # when it went live from -1 (no replay id known yet)
    status: ChannelStatus = ChannelStatus.SUBSCRIBING
    sent_in: int = -1  # the session number it was last sent in
    attempts: int = 0
    waiters: list[asyncio.Future[Batch]] = field(default_factory=list)


class Subscriptions:
    """The subscription half of ``CometdSession`` (which provides what is declared here)."""

    hooks: Hooks
    policy: Policy
    channels: dict[str, Channel]
    high: dict[str, int]  # newest replay id handed to the caller, per channel
    cutoff: dict[str, float]  # channel -> drop replayed events created before (server time)
    clock: ServerClock
    state: ConnectionState
    client_id: str | None
    session_number: int
    unusable_replay_ids: int
    _phase: Phase
    _transport: Transport | None

    @property
    def endpoint(self) -> str:
        raise NotImplementedError

    def _next_id(self) -> str:
        raise NotImplementedError

    def _lose_session(self, new_token: bool = False) -> None:
        raise NotImplementedError

    def _set_state(
        self, state: ConnectionState, reason: str = "", delay: float | None = None
    ) -> None:
        raise NotImplementedError

    async def subscribe(self, name: str, replay: int | None = None) -> Batch:
        """Subscribe (also before the reply arrives, and across re-handshakes).

        Returns the server's reply messages. ``replay`` overrides the stored replay id once.
        """
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = Channel(name)
        ch.replay = replay
        ch.attempts = 0
        if replay is not None:
            self.high.pop(name, None)  # the caller asked to see these events again
            self.cutoff.pop(name, None)
            ch.live_since = None
        ch.status = ChannelStatus.SUBSCRIBING
        self.hooks.notify(ChannelChange(name, ChannelStatus.SUBSCRIBING))
        future: asyncio.Future[Batch] = asyncio.get_running_loop().create_future()
        ch.waiters.append(future)
        if self._phase is Phase.FAILED:
            raise ClientStateError("the client has failed; start it again")
        if self._phase is Phase.CLOSED:
            raise ClientStateError("the client was stopped; start it again")
        # sent now if the session is up (also in a pause the server advised), else by the
        # re-subscribe that follows the next handshake
        if self._phase is Phase.LIVE:
            await self._send_subscribes([ch])
        return await future

    async def unsubscribe(self, name: str) -> Batch:
        ch = self.channels.pop(name, None)
        if ch is not None:
            self._resolve(ch, [bayeux.refused_subscribe(name, "unsubscribed")])
        self.hooks.notify(ChannelChange(name, ChannelStatus.UNSUBSCRIBED))
        if self._phase is not Phase.LIVE or self._transport is None or not self.client_id:
            return []  # no session: the next one will simply not re-subscribe it
        msg = bayeux.unsubscribe(self.client_id, name, self._next_id())
        try:
            return await self._transport.post(self.endpoint, [msg])
        except TransportError:
            return []  # the next session will simply not re-subscribe it

    def _rejected(self, rejected: list[Rejected]) -> None:
        """Messages of a reply that could not be read: the rest of the reply goes on; a
        subscribed channel gets a ``GapNotice`` (action ``skipped``) so that nothing is
        lost silently."""
        for item in rejected:
            log.warning(
                "a message of %d bytes on %s could not be read (%s); skipped",
                item.size,
                item.channel or "an unknown channel",
                item.reason,
            )
            if item.channel is not None and item.channel in self.channels:
                self.hooks.notify(
                    GapNotice(
                        item.channel,
                        self.high.get(item.channel),
                        f"a message of {item.size:,} bytes could not be read: {item.reason}",
                        "skipped",
                    )
                )

    def unusable_replay_id(self, channel: str, value: Any) -> None:
        """An event was delivered whose replay id cannot be a resume point (logged, the
        first ten times and then every thousandth: a server may send many)."""
        self.unusable_replay_ids += 1
        n = self.unusable_replay_ids
        if n <= 10 or n % 1000 == 0:
            log.warning(
                "event on %s has replay id %.40r, which is not a usable replay id (1 to "
                "2**63-1); delivered, but not used to resume or de-duplicate (%d so far)",
                channel,
                value,
                n,
            )

    def before_cutoff(self, channel: str, message: Message) -> bool:
        """During a -2 catch-up of a channel that had no replay id: skip older events."""
        cutoff = self.cutoff.get(channel, self.cutoff.get(channel.partition("?")[0]))
        if cutoff is None:
            return False
        created = parse_time(creation_time_of(message))
        if created is not None and created.timestamp() < cutoff:
            return True
        self.cutoff.pop(channel, None)
        self.cutoff.pop(channel.partition("?")[0], None)
        return False

    async def _resubscribe_all(self) -> None:
        while True:
            pending = [
                ch
                for ch in self.channels.values()
                if ch.sent_in != self.session_number and ch.status is not ChannelStatus.ERROR
            ]
            if not pending or self._phase is not Phase.LIVE:
                return
            await self._send_subscribes(pending)

    async def _replay_for(self, ch: Channel) -> int:
        if ch.replay is not None:
            return ch.replay
        base = ch.name.partition("?")[0]
        received = self.high.get(ch.name, self.high.get(base))
        if received is not None:
            return received
        if ch.live_since is None:
            initial = await self.hooks.initial_replay(ch.name)
            if not isinstance(initial, LiveSince):
                return int(initial)
            ch.live_since = initial.since
        if self.clock.known:
            self.cutoff[ch.name] = ch.live_since - self.policy.clock_skew
        else:
            # no Date from this server: its time is unknown, so nothing is dropped
            self.cutoff.pop(ch.name, None)
        return int(ReplayType.ALL_EVENTS)

    async def _send_subscribes(self, channels: list[Channel]) -> None:
        """One POST subscribing to every channel given (a bulk subscribe, §2.6)."""
        transport, number = self._transport, self.session_number
        if transport is None:
            return
        messages = []
        sent: list[int] = []
        for ch in channels:
            ch.sent_in = number
            replay = await self._replay_for(ch)
            sent.append(replay)
            messages.append(bayeux.subscribe(self.client_id, ch.name, replay, self._next_id()))
        try:
            replies = await transport.post(self.endpoint, messages)
        except TransportError as exc:
            for ch in channels:
                ch.sent_in = -1  # re-sent by the next session
            if number == self.session_number and self._phase is Phase.LIVE:
                self._lose_session()
                self._set_state(ConnectionState.RECONNECTING, str(exc), 0.0)
            return
        by_channel = bayeux.subscribe_replies(replies)
        retry: list[Channel] = []
        for ch, replay in zip(channels, sent, strict=True):
            reply = by_channel.get(ch.name)
            if reply is None:
                ch.sent_in = -1
                continue
            if await self._subscribe_reply(ch, reply, replay):
                retry.append(ch)
        if retry:
            await self._send_subscribes(retry)

    async def _subscribe_reply(self, ch: Channel, reply: Message, sent_replay: int) -> bool:
        """Handle one subscribe reply; True when it should be sent again now."""
        if self.channels.get(ch.name) is not ch:
            return False  # unsubscribed meanwhile
        if reply.get("successful") is True:
            ch.replay = None
            now = self.clock.now()  # the server's time: compared with its creation dates
            if sent_replay == ReplayType.NEW_EVENTS and ch.live_since is None:
                ch.live_since = now
            elif sent_replay != ReplayType.ALL_EVENTS or ch.name not in self.cutoff:
                ch.live_since = None
            ch.status = ChannelStatus.LIVE
            self.hooks.notify(ChannelChange(ch.name, ChannelStatus.LIVE, at=now))
            self._resolve(ch, [reply])
            return False
        err = error_of(reply)
        if bayeux.replay_invalid(err) and sent_replay >= 0:
            action = self.policy.stale_replay
            self.hooks.notify(GapNotice(ch.name, sent_replay, err.text, action))
            if action != "fail":
                ch.replay = int(
                    ReplayType.ALL_EVENTS if action == "replay_all" else ReplayType.NEW_EVENTS
                )
                self.high.pop(ch.name, None)
                return True
        elif bayeux.unknown_client(err) or bayeux.token_refused(err):
            ch.sent_in = -1  # re-sent by the next session
            if self._phase is Phase.LIVE:  # else the loop is already re-establishing
                self._lose_session(new_token=bayeux.token_refused(err))
            return False
        elif self._retryable(err) and ch.attempts < self.policy.subscribe_retries:
            ch.attempts += 1
            await asyncio.sleep(self.policy.subscribe_retry_wait(ch.attempts))
            return True
        ch.status = ChannelStatus.ERROR
        self.hooks.notify(ChannelChange(ch.name, ChannelStatus.ERROR, str(err)))
        self._resolve(ch, [reply])
        return False

    @staticmethod
    def _retryable(err: BayeuxError) -> bool:
        return bayeux.server_busy(err) or err.code is None

    def _resolve(self, ch: Channel, result: Batch) -> None:
        waiters, ch.waiters = ch.waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(result)
