"""The Bayeux session engine: handshake, the connect loop, subscriptions, and recovery.

One background task polls ``/meta/connect`` and puts each reply (a batch of messages) on a
small bounded queue; the caller's iteration drains it. So the next poll is already under way
while the caller processes a batch, and a slow caller only delays polling, never loses
events: if the 40 s session deadline passes, the session is re-established and every
channel re-subscribed from the last replay id received (reference §9).

Recovery rules (reference §4, §9):
- a successful handshake clears the old advice, and every channel is re-subscribed;
- ``403::Unknown client`` or ``reconnect: handshake`` -> new handshake (backoff if repeated);
- ``401`` -> a new token (bounded by ``LoginGuard``), then a new handshake;
- ``503`` failureReason, transport failures -> backoff with jitter, then a new session with
  replay from the last received id, so that a reply cut in transit loses nothing;
- HTTP 408/500 on a poll (a superseded connect) -> poll again;
- a stale replay id -> ``GapNotice`` and a re-subscribe per ``stale_replay`` policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .advice import checked_advice
from .batches import Rejected
from .errors import (
    AuthenticationError,
    BayeuxError,
    ConnectionFailedError,
    HttpStatusError,
    StreamingError,
    TransportError,
)
from .http import ServerClock
from .replay import LiveSince, ReplayType, creation_time_of, parse_time
from .state import (
    Backoff,
    ChannelChange,
    ChannelStatus,
    ConnectionState,
    GapNotice,
    LoginGuard,
    Notice,
    StateChange,
)
from .transport import HttpOptions, Transport

log = logging.getLogger(__name__)

Message = dict[str, Any]
Batch = list[Message]
STOP = object()  # queue sentinel: iteration ends
STALE_REPLAY_POLICIES = ("replay_all", "new_only", "fail")


@dataclass
class Hooks:
    """What the engine asks of its owner (the public client class)."""

    fetch_token: Callable[[], Awaitable[tuple[str, str]]]
    initial_replay: Callable[[str], Awaitable[int | LiveSince]]
    resolve_version: Callable[[str], Awaitable[str]]
    notify: Callable[[Notice], None]


@dataclass
class Policy:
    auto_reconnect: bool = True
    stale_replay: str = "replay_all"
    subscribe_retries: int = 0  # extra attempts for a retryable subscribe failure
    subscribe_retry_delay: float = 0.1
    subscribe_retry_factor: float = 1.0
    subscribe_retry_max_delay: float = 30.0
    queue_batches: int = 4  # replies buffered ahead of the caller
    http_margin: float = 30.0  # HTTP read timeout = advice.timeout + this (§2.5)
    # At most this many logins per window: a loop of logins (a token that keeps being
    # refused) must not hammer the org, yet a few revocations in a row are normal.
    login_limit: int = 10
    login_window: float = 300.0
    backoff_cap: float = 60.0
    # A channel that went live with -1 and has received nothing has no replay id to resume
    # from; it is resumed with -2, dropping events created this long before it went live.
    # Both times are the server's (its creation dates; its Date header when the channel went
    # live), so our clock does not matter; the margin covers the Date header's one-second
    # resolution, network delays and a clock corrected between two runs. Where in doubt an
    # event is kept: the store drops what it already has.
    clock_skew: float = 120.0


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


def _is_replay_invalid(text: str) -> bool:
    return text.startswith("400::The replayId") and "invalid" in text


def _find(replies: Batch, channel: str) -> Message | None:
    return next((m for m in replies if type(m) is dict and m.get("channel") == channel), None)


def _failure_reason(reply: Message) -> str | None:
    ext = reply.get("ext")
    sfdc = ext.get("sfdc") if isinstance(ext, dict) else None
    reason = sfdc.get("failureReason") if isinstance(sfdc, dict) else None
    return reason if isinstance(reason, str) else None


def _error_of(reply: Message) -> BayeuxError:
    error = reply.get("error")
    return BayeuxError(
        error if isinstance(error, str) else "unsuccessful reply without error",
        _failure_reason(reply),
        reply.get("channel"),
    )


class CometdSession:
    def __init__(self, hooks: Hooks, http: HttpOptions, version: str, policy: Policy) -> None:
        self.hooks = hooks
        self.http = http
        self.version = version
        self.policy = policy
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, policy.queue_batches))
        self.channels: dict[str, Channel] = {}
        self.high: dict[str, int] = {}  # newest replay id handed to the caller, per channel
        self.cutoff: dict[str, float] = {}  # channel -> drop replayed events created before
        self.state = ConnectionState.STOPPED
        self.client_id: str | None = None
        self.instance_url = ""
        self.token: str | None = None
        self.advice: dict[str, Any] = {}
        self.duplicates_dropped = 0
        self.unusable_replay_ids = 0  # events delivered whose replay id cannot be used
        self.session_number = 0
        self.clock = ServerClock()  # the server's time, from the Date of its replies
        self._advice_warned: set[str] = set()
        self._transport: Transport | None = None
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._need_session = False
        self._need_token = True
        self._backoff = Backoff(cap=policy.backoff_cap)
        self._logins = LoginGuard(policy.login_limit, policy.login_window)
        self._poll_retries = 0
        self._unknown_in_row = 0

    # --- public --------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"{self.instance_url}/cometd/{self.version}"

    async def open(self) -> None:
        """Authenticate and handshake; errors propagate to the caller of ``start()``.

        The first ``/meta/connect`` is the poll task's first poll: Salesforce answers it at
        once, but a stock CometD server holds it (Faye: 60 s), and the seed library (like
        jsforce and Faye's own client) returns from ``start()`` after the handshake."""
        self._set_state(ConnectionState.CONNECTING)
        try:
            await self._login()
            self.version = await self.hooks.resolve_version(self.instance_url)
            await self._handshake()
        except BaseException as exc:
            self._set_state(ConnectionState.FAILED, str(exc))
            await self._drop_transport()
            raise
        self._set_state(ConnectionState.CONNECTED)
        self._task = asyncio.create_task(self._run(), name="sfmonitor-cometd-poll")

    async def close(self) -> None:
        """Stop polling, send ``/meta/disconnect``, close HTTP. Safe to call twice."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self._drop_transport(disconnect=not self._need_session)
        for ch in self.channels.values():
            self._resolve(
                ch,
                [
                    {
                        "channel": "/meta/subscribe",
                        "subscription": ch.name,
                        "successful": False,
                        "error": "client stopped",
                    }
                ],
            )
        self._set_state(ConnectionState.STOPPED)
        self.stop_iteration()

    def stop_iteration(self) -> None:
        """Wake the caller's iteration so that it ends now."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(STOP)

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

    # --- the poll loop -------------------------------------------------------------------

    async def _run(self) -> None:
        """Poll and hand each reply's messages to the caller, one poll ahead: the next
        ``/meta/connect`` is sent before the caller starts on a batch, so that the server
        prepares the next reply while the caller works through this one."""
        batch: Batch = []
        poll: asyncio.Future[Batch] | None = None
        try:
            while not self._closing:
                if self._need_session:
                    if batch:
                        await self.queue.put(batch)
                        batch = []
                    await self._reestablish()
                    continue
                poll = asyncio.ensure_future(self._poll())
                # Two turns of the loop: the poll writes its request (aiohttp sends the
                # body from a task of its own). This also gives other tasks on the loop (a
                # UI) their turn during a flood, when replies arrive already buffered.
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                if batch:
                    await self.queue.put(batch)
                batch = await poll
                poll = None
            if batch:
                await self.queue.put(batch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._set_state(ConnectionState.FAILED, str(exc))
            for ch in self.channels.values():
                self._resolve(
                    ch,
                    [
                        {
                            "channel": "/meta/subscribe",
                            "subscription": ch.name,
                            "successful": False,
                            "error": f"client failed: {exc}",
                        }
                    ],
                )
            await self.queue.put(exc if isinstance(exc, Exception) else StreamingError(str(exc)))
        finally:
            if poll is not None and not poll.done():
                poll.cancel()
                await asyncio.gather(poll, return_exceptions=True)

    async def _poll(self) -> Batch:
        """One ``/meta/connect``; returns the messages to hand to the caller."""
        assert self._transport is not None
        timeout = float(self.advice.get("timeout", 110_000)) / 1000 + self.policy.http_margin
        msg = {
            "channel": "/meta/connect",
            "clientId": self.client_id,
            "connectionType": "long-polling",
            "id": self._next_id(),
        }
        try:
            replies, rejected = await self._transport.exchange(self.endpoint, [msg], timeout)
        except HttpStatusError as exc:
            if exc.status in (408, 500) and self._poll_retries < 2:
                # a superseded long poll (duplicate connect, §2.5): poll again
                self._poll_retries += 1
                await asyncio.sleep(0.05 * self._poll_retries)
                return []
            await self._transport_failed(exc)
            return []
        except TransportError as exc:
            await self._transport_failed(exc)
            return []
        self._poll_retries = 0
        if rejected:
            self._rejected(rejected)
        batch = replies  # checked and de-duplicated as the caller reads it (the one pass)
        # the connect reply comes last (events first, §2.5) but is found by channel
        reply = next(
            (m for m in reversed(batch) if type(m) is dict and m.get("channel") == "/meta/connect"),
            None,
        )
        if reply is None:
            await self._transport_failed(TransportError("connect reply missing from response"))
            return batch
        if reply.get("successful") is True:
            self._unknown_in_row = 0
            self._backoff.reset()
            if "advice" in reply:
                self.advice.update(checked_advice(reply["advice"], self._advice_warned))
            if self.state is not ConnectionState.CONNECTED:
                self._set_state(ConnectionState.CONNECTED)
            reconnect = self.advice.get("reconnect", "retry")
            if reconnect in ("handshake", "none"):
                self._need_session = True
            interval = self.advice.get("interval", 0)
            if interval > 0:
                await asyncio.sleep(interval / 1000)
            return batch
        await self._connect_failed(reply)
        return batch

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

    async def _connect_failed(self, reply: Message) -> None:
        err = _error_of(reply)
        advice = checked_advice(reply.get("advice"), self._advice_warned)
        reason = err.failure_reason or ""
        if reason.startswith("503") or err.code == 503:
            await self._wait_and_reconnect(str(err))
        elif err.code == 401 or reason.startswith("401"):
            self._need_token = True
            await self._wait_and_reconnect(str(err), delay=0.0)
        elif "Unknown client" in err.text or advice.get("reconnect") == "handshake":
            self._unknown_in_row += 1
            # a first Unknown client is routine (expiry); in a row it is a loop (cometd#2480)
            await self._wait_and_reconnect(
                str(err), delay=None if self._unknown_in_row > 1 else 0.0
            )
        elif advice.get("reconnect") == "retry":
            delay = self._backoff.next()
            self._set_state(ConnectionState.RECONNECTING, str(err), delay)
            await asyncio.sleep(delay)
        else:
            await self._wait_and_reconnect(str(err))

    async def _transport_failed(self, exc: TransportError) -> None:
        if isinstance(exc, HttpStatusError) and exc.status in (401, 403):
            self._need_token = True
        await self._wait_and_reconnect(str(exc))

    async def _wait_and_reconnect(self, reason: str, delay: float | None = None) -> None:
        """Mark the session for re-establishment after ``delay`` (None = next backoff)."""
        if not self.policy.auto_reconnect:
            raise ConnectionFailedError(reason)
        delay = self._backoff.next() if delay is None else delay
        self._need_session = True
        self._set_state(ConnectionState.RECONNECTING, reason, delay)
        if delay > 0:
            await asyncio.sleep(delay)

    async def _reestablish(self) -> None:
        """New token if needed, new handshake, first connect, re-subscribe every channel."""
        await self._drop_transport(disconnect=True)
        try:
            if self._need_token:
                await self._login()
            await self._handshake()
        except AuthenticationError:
            raise  # the credentials themselves were refused: retrying locks the user out
        except (BayeuxError, TransportError) as exc:
            if isinstance(exc, BayeuxError) and (
                exc.code == 401 or (exc.failure_reason or "").startswith("401")
            ):
                self._need_token = True
            await self._wait_and_reconnect(str(exc))
            return
        self._need_session = False
        self._set_state(ConnectionState.CONNECTED)
        await self._resubscribe_all()

    # --- steps ---------------------------------------------------------------------------

    async def _login(self) -> None:
        wait = self._logins.wait_time()
        if wait > 0:
            self._set_state(
                ConnectionState.RECONNECTING,
                "waiting before logging in again (repeated logins lock users out)",
                wait,
            )
            await asyncio.sleep(wait)
        self._logins.record()
        self.token, self.instance_url = await self.hooks.fetch_token()
        self.instance_url = self.instance_url.rstrip("/")
        self._need_token = False
        log.debug("logged in: instance %s", self.instance_url)  # never the token

    async def _handshake(self) -> None:
        await self._drop_transport()
        assert self.token is not None
        self._transport = Transport(self.http, self.token, self.clock)
        self.session_number += 1
        replies = await self._transport.post(
            self.endpoint,
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "minimumVersion": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                    "ext": {"replay": True},
                    "id": self._next_id(),
                }
            ],
        )
        reply = _find(replies, "/meta/handshake")
        if reply is None:
            raise TransportError("handshake reply missing from response")
        if reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
            raise _error_of(reply)
        self.client_id = reply["clientId"]
        log.debug("handshake: clientId %s (session %d)", self.client_id, self.session_number)
        self.advice = {}  # a successful handshake carries no advice: forget the old one (§2.4)

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
        err = _error_of(reply)
        if _is_replay_invalid(err.text) and sent_replay >= 0:
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

    # --- helpers -------------------------------------------------------------------------

    def _resolve(self, ch: Channel, result: Batch) -> None:
        waiters, ch.waiters = ch.waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(result)

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _set_state(
        self, state: ConnectionState, reason: str = "", delay: float | None = None
    ) -> None:
        self.state = state
        if reason:
            log.info(
                "streaming %s: %s%s",
                state.value,
                reason,
                f" (next attempt in {delay:.1f} s)" if delay else "",
            )
        self.hooks.notify(StateChange(state, reason, delay))

    async def _drop_transport(self, disconnect: bool = False) -> None:
        transport, cid = self._transport, self.client_id
        self._transport = None
        self.client_id = None
        if transport is None:
            return
        if disconnect and cid:
            # frees the org's concurrent-client slot at once; best effort, never waited on long
            with contextlib.suppress(StreamingError, asyncio.TimeoutError):
                await asyncio.wait_for(
                    transport.post(
                        self.endpoint,
                        [{"channel": "/meta/disconnect", "clientId": cid, "id": self._next_id()}],
                        timeout=2,
                    ),
                    2,
                )
        await transport.close()
