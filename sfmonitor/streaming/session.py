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
from typing import Any

from .advice import checked_advice
from .bayeux import (
    STALE_REPLAY_POLICIES,
    STOP,
    Batch,
    Channel,
    Hooks,
    Message,
    Policy,
    error_of,
    find_reply,
)
from .errors import (
    AuthenticationError,
    BayeuxError,
    ConnectionFailedError,
    HttpStatusError,
    StreamingError,
    TransportError,
)
from .http import ServerClock
from .state import (
    Backoff,
    ConnectionState,
    LoginGuard,
    StateChange,
)
from .subscriptions import Subscriptions
from .transport import HttpOptions, Transport

__all__ = ["STALE_REPLAY_POLICIES", "STOP", "CometdSession", "Hooks", "Policy"]

log = logging.getLogger(__name__)


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
            if not isinstance(exc, asyncio.CancelledError):  # cancelled: stopped, not failed
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

    async def _connect_failed(self, reply: Message) -> None:
        err = error_of(reply)
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
        reply = find_reply(replies, "/meta/handshake")
        if reply is None:
            raise TransportError("handshake reply missing from response")
        if reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
            raise error_of(reply)
        self.client_id = reply["clientId"]
        log.debug("handshake: clientId %s (session %d)", self.client_id, self.session_number)
        self.advice = {}  # a successful handshake carries no advice: forget the old one (§2.4)

    # --- helpers -------------------------------------------------------------------------

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
