"""Subscriptions of a CometD session: subscribe and unsubscribe from any task, re-subscribe
every channel after a re-handshake from the last replay id handed out (reference §9), the
live-since resume of channels that have received nothing, stale replay ids, and the
per-channel bookkeeping of received messages (unreadable ones, unusable replay ids)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .batches import Rejected
from .bayeux import Batch, Channel, Hooks, Message, Policy, error_of, is_replay_invalid
from .errors import BayeuxError, StreamingError, TransportError
from .http import ServerClock
from .replay import LiveSince, ReplayType, creation_time_of, parse_time
from .state import ChannelChange, ChannelStatus, ConnectionState, GapNotice
from .transport import Transport

log = logging.getLogger(__name__)


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
    _transport: Transport | None
    _need_session: bool
    _need_token: bool

    @property
    def endpoint(self) -> str:
        raise NotImplementedError

    def _next_id(self) -> str:
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
        if self.state is ConnectionState.FAILED:
            raise StreamingError("the client has failed; start it again")
        if self.state is ConnectionState.CONNECTED and not self._need_session:
            await self._send_subscribes([ch])
        return await future

    async def unsubscribe(self, name: str) -> Batch:
        ch = self.channels.pop(name, None)
        if ch is not None:
            self._resolve(
                ch,
                [
                    {
                        "channel": "/meta/subscribe",
                        "subscription": name,
                        "successful": False,
                        "error": "unsubscribed",
                    }
                ],
            )
        self.hooks.notify(ChannelChange(name, ChannelStatus.UNSUBSCRIBED))
        if self._transport is None or self._need_session or not self.client_id:
            return []
        msg = {
            "channel": "/meta/unsubscribe",
            "clientId": self.client_id,
            "subscription": name,
            "id": self._next_id(),
        }
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
            if not pending or self._need_session:
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
            messages.append(
                {
                    "channel": "/meta/subscribe",
                    "clientId": self.client_id,
                    "subscription": ch.name,
                    "id": self._next_id(),
                    "ext": {"replay": {ch.name: replay}},
                }
            )
        try:
            replies = await transport.post(self.endpoint, messages)
        except TransportError as exc:
            for ch in channels:
                ch.sent_in = -1  # re-sent by the next session
            if number == self.session_number and not self._need_session:
                self._need_session = True
                self._set_state(ConnectionState.RECONNECTING, str(exc), 0.0)
            return
        by_channel = {
            m.get("subscription"): m
            for m in replies
            if type(m) is dict and m.get("channel") == "/meta/subscribe"
        }
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
        if is_replay_invalid(err.text) and sent_replay >= 0:
            action = self.policy.stale_replay
            self.hooks.notify(GapNotice(ch.name, sent_replay, err.text, action))
            if action != "fail":
                ch.replay = int(
                    ReplayType.ALL_EVENTS if action == "replay_all" else ReplayType.NEW_EVENTS
                )
                self.high.pop(ch.name, None)
                return True
        elif "Unknown client" in err.text or err.code == 401:
            ch.sent_in = -1
            if not self._need_session:
                self._need_session = True
                self._need_token = self._need_token or err.code == 401
            return False
        elif self._retryable(err) and ch.attempts < self.policy.subscribe_retries:
            ch.attempts += 1
            delay = min(
                self.policy.subscribe_retry_max_delay,
                self.policy.subscribe_retry_delay
                * self.policy.subscribe_retry_factor ** (ch.attempts - 1),
            )
            await asyncio.sleep(delay)
            return True
        ch.status = ChannelStatus.ERROR
        self.hooks.notify(ChannelChange(ch.name, ChannelStatus.ERROR, str(err)))
        self._resolve(ch, [reply])
        return False

    @staticmethod
    def _retryable(err: BayeuxError) -> bool:
        reason = err.failure_reason or ""
        return err.code == 503 or reason.startswith("503") or err.code is None

    def _resolve(self, ch: Channel, result: Batch) -> None:
        waiters, ch.waiters = ch.waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(result)
