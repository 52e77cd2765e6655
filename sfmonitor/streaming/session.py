"""The Bayeux session engine: handshake, the connect loop, subscriptions, and recovery.

One background task polls ``/meta/connect`` and puts each reply (a batch of messages) on a
small bounded queue; the caller's iteration drains it. So the next poll is already under way
while the caller processes a batch, and a slow caller only delays polling, never loses
events: if the 40 s session deadline passes, the session is re-established and every
channel re-subscribed from the last replay id received (reference §9).

Where the engine stands is one ``Phase`` (``phase.py``), moved only by ``_enter``. Recovery
rules (reference §4, §9), all in ``_follow_advice`` but the transport's:
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
from dataclasses import dataclass
from typing import Any

from . import bayeux
from .bayeux import Batch, Message, checked_advice, error_of
from .errors import (
    AuthenticationError,
    BayeuxError,
    ConnectionFailedError,
    HttpStatusError,
    StreamingError,
    TransportError,
)
from .http import ServerClock
from .phase import Phase, advance
from .policy import Backoff, LoginGuard, Policy
from .replay import LiveSince
from .state import ConnectionState, Notice, StateChange
from .subscriptions import Channel, Subscriptions
from .transport import HttpOptions, Transport

__all__ = ["STOP", "CometdSession", "Hooks"]

log = logging.getLogger(__name__)

STOP = object()  # queue sentinel: iteration ends


@dataclass
class Hooks:
    """What the engine asks of its owner (the public client class)."""

    fetch_token: Callable[[], Awaitable[tuple[str, str]]]
    initial_replay: Callable[[str], Awaitable[int | LiveSince]]
    resolve_version: Callable[[str], Awaitable[str]]
    notify: Callable[[Notice], None]


class CometdSession(Subscriptions):
    def __init__(self, hooks: Hooks, http: HttpOptions, version: str, policy: Policy) -> None:
        self.hooks = hooks
        self.http = http
        self.version = version
        self.policy = policy
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, policy.queue_batches))
        self.channels: dict[str, Channel] = {}
        self.high: dict[str, int] = {}  # newest replay id handed to the caller, per channel
        self.cutoff: dict[str, float] = {}  # channel -> drop replayed events created before
        self.state = ConnectionState.STOPPED  # what listeners were last told
        self.client_id: str | None = None
        self.instance_url = ""
        self.token: str | None = None
        self.advice: dict[str, Any] = {}
        self.unusable_replay_ids = 0  # events delivered whose replay id cannot be used
        self.session_number = 0
        self.clock = ServerClock()  # the server's time, from the Date of its replies
        self._phase = Phase.NEW
        self._advice_warned: set[str] = set()
        self._transport: Transport | None = None
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._backoff = Backoff(cap=policy.backoff_cap)
        self._logins = LoginGuard(policy.login_limit, policy.login_window)
        self._poll_retries = 0
        self._unknown_in_row = 0

    # --- public --------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"{self.instance_url}/cometd/{self.version}"

    @property
    def phase(self) -> Phase:
        return self._phase

    async def open(self) -> None:
        """Authenticate and handshake; errors propagate to the caller of ``start()``.

        The first ``/meta/connect`` is the poll task's first poll: Salesforce answers it at
        once, but a stock CometD server holds it (Faye: 60 s), and the seed library (like
        jsforce and Faye's own client) returns from ``start()`` after the handshake."""
        self._enter(Phase.OPENING)
        self._set_state(ConnectionState.CONNECTING)
        try:
            await self._login()
            self.version = await self.hooks.resolve_version(self.instance_url)
            await self._handshake()
            self._enter(Phase.LIVE)  # refused if close() came meanwhile
        except BaseException as exc:
            # cancelled or closed meanwhile: stopped, not failed
            if not isinstance(exc, asyncio.CancelledError) and self._phase is Phase.OPENING:
                self._fail(exc)
            # a clientId here means a handshake that close() overtook: end it on the server
            await self._drop_transport(disconnect=True)
            raise
        self._set_state(ConnectionState.CONNECTED)
        self._task = asyncio.create_task(self._run(), name="sfmonitor-cometd-poll")

    async def close(self) -> None:
        """Stop polling, send ``/meta/disconnect``, close HTTP. Safe to call twice."""
        # a session being re-established is already gone on the server: nothing to end there
        gone = self._phase in (Phase.HANDSHAKE, Phase.LOGIN)
        self._enter(Phase.CLOSED)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self._drop_transport(disconnect=not gone)
        for ch in self.channels.values():
            self._resolve(ch, [bayeux.refused_subscribe(ch.name, "client stopped")])
        self._set_state(ConnectionState.STOPPED)
        self.stop_iteration()

    def stop_iteration(self) -> None:
        """Wake the caller's iteration so that it ends now."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(STOP)

    # --- the poll loop -------------------------------------------------------------------

    async def _run(self) -> None:
        """Poll and hand each reply's messages to the caller, one poll ahead: the next
        ``/meta/connect`` is sent before the caller starts on a batch, so that the server
        prepares the next reply while the caller works through this one."""
        batch: Batch = []
        poll: asyncio.Future[Batch] | None = None
        try:
            while self._phase is not Phase.CLOSED:
                if self._phase is not Phase.LIVE:
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
            self._fail(exc)
            for ch in self.channels.values():
                self._resolve(ch, [bayeux.refused_subscribe(ch.name, f"client failed: {exc}")])
            await self.queue.put(exc if isinstance(exc, Exception) else StreamingError(str(exc)))
        finally:
            if poll is not None and not poll.done():
                poll.cancel()
                await asyncio.gather(poll, return_exceptions=True)

    async def _poll(self) -> Batch:
        """One ``/meta/connect``; returns the messages to hand to the caller (checked and
        de-duplicated as the caller reads them: the one pass)."""
        assert self._transport is not None
        timeout = float(self.advice.get("timeout", 110_000)) / 1000 + self.policy.http_margin
        msg = bayeux.connect(self.client_id, self._next_id())
        try:
            replies, rejected = await self._transport.exchange(self.endpoint, [msg], timeout)
        except HttpStatusError as exc:
            if exc.status in (408, 500) and self._poll_retries < self.policy.poll_retries:
                # a superseded long poll (duplicate connect, §2.5): poll again
                self._poll_retries += 1
                await asyncio.sleep(self.policy.poll_retry_step * self._poll_retries)
                return []
            await self._transport_failed(exc)
            return []
        except TransportError as exc:
            await self._transport_failed(exc)
            return []
        self._poll_retries = 0
        if rejected:
            self._rejected(rejected)
        reply = bayeux.connect_reply(replies)
        if reply is None:
            await self._transport_failed(TransportError("connect reply missing from response"))
        else:
            await self._follow_advice(reply)
        return replies

    async def _follow_advice(self, reply: Message) -> None:
        """The one place a connect reply's verdict and advice are followed (§2.4, §4)."""
        if reply.get("successful") is True:
            self._unknown_in_row = 0
            self._backoff.reset()
            if "advice" in reply:
                self.advice.update(checked_advice(reply["advice"], self._advice_warned))
            if self.state is not ConnectionState.CONNECTED:
                self._set_state(ConnectionState.CONNECTED)
            if self.advice.get("reconnect", "retry") in ("handshake", "none"):
                self._lose_session()
            interval = self.advice.get("interval", 0)
            if interval > 0:
                await asyncio.sleep(interval / 1000)
            return
        err = error_of(reply)
        advice = checked_advice(reply.get("advice"), self._advice_warned)
        if bayeux.server_busy(err):
            await self._wait_and_reconnect(str(err))
        elif bayeux.token_refused(err):
            await self._wait_and_reconnect(str(err), delay=0.0, new_token=True)
        elif bayeux.unknown_client(err) or advice.get("reconnect") == "handshake":
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
        refused = isinstance(exc, HttpStatusError) and exc.status in (401, 403)
        await self._wait_and_reconnect(str(exc), new_token=refused)

    async def _wait_and_reconnect(
        self, reason: str, delay: float | None = None, new_token: bool = False
    ) -> None:
        """Mark the session for re-establishment (with a new token first if ``new_token``)
        after ``delay`` (None = next backoff); without auto-reconnect, give up."""
        if not self.policy.auto_reconnect:
            raise ConnectionFailedError(reason)
        delay = self._backoff.next() if delay is None else delay
        self._lose_session(new_token)
        self._set_state(ConnectionState.RECONNECTING, reason, delay)
        if delay > 0:
            await asyncio.sleep(delay)

    async def _reestablish(self) -> None:
        """New token if needed, new handshake, first connect, re-subscribe every channel."""
        await self._drop_transport(disconnect=True)
        try:
            if self._phase is Phase.LOGIN:
                await self._login()
                self._enter(Phase.HANDSHAKE)
            await self._handshake()
        except AuthenticationError:
            raise  # the credentials themselves were refused: retrying locks the user out
        except (BayeuxError, TransportError) as exc:
            refused = isinstance(exc, BayeuxError) and bayeux.token_refused(exc)
            await self._wait_and_reconnect(str(exc), new_token=refused)
            return
        self._enter(Phase.LIVE)
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
        log.debug("logged in: instance %s", self.instance_url)  # never the token

    async def _handshake(self) -> None:
        await self._drop_transport()
        assert self.token is not None
        self._transport = Transport(self.http, self.token, self.clock)
        self.session_number += 1
        replies = await self._transport.post(self.endpoint, [bayeux.handshake(self._next_id())])
        reply = bayeux.find_reply(replies, bayeux.HANDSHAKE)
        if reply is None:
            raise TransportError("handshake reply missing from response")
        if reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
            raise error_of(reply)
        self.client_id = reply["clientId"]
        log.debug("handshake: clientId %s (session %d)", self.client_id, self.session_number)
        self.advice = {}  # a successful handshake carries no advice: forget the old one (§2.4)

    # --- phase and state -----------------------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        """Move to ``phase``: the one place the phase changes (``phase.advance`` refuses
        a move that makes no sense)."""
        self._phase = advance(self._phase, phase)

    def _lose_session(self, new_token: bool = False) -> None:
        """The server no longer knows our clientId, or refused our token (``new_token``):
        the poll loop re-establishes the session. Once closed or failed, nothing to do."""
        if self._phase is Phase.LIVE or (new_token and self._phase is Phase.HANDSHAKE):
            self._enter(Phase.LOGIN if new_token else Phase.HANDSHAKE)

    def _fail(self, exc: BaseException) -> None:
        self._enter(Phase.FAILED)
        self._set_state(ConnectionState.FAILED, str(exc))

    def _set_state(
        self, state: ConnectionState, reason: str = "", delay: float | None = None
    ) -> None:
        """Tell listeners (``StateChange``); the reason is the server's words where it spoke."""
        self.state = state
        if reason:
            log.info(
                "streaming %s: %s%s",
                state.value,
                reason,
                f" (next attempt in {delay:.1f} s)" if delay else "",
            )
        self.hooks.notify(StateChange(state, reason, delay))

    # --- helpers -------------------------------------------------------------------------

    def _next_id(self) -> str:
        return str(next(self._ids))

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
                        self.endpoint, [bayeux.disconnect(cid, self._next_id())], timeout=2
                    ),
                    2,
                )
        await transport.close()
