"""``BaseSalesforceStreaming``: the public face of the client, with aio-sf-streaming's API.

The class keeps the seed's methods (``start``, ``stop``, ``subscribe``, ``unsubscribe``,
``messages``, ``events``, ``ask_stop``, ``fetch_token``, ``async with``) and delegates the
protocol to ``session.CometdSession``; mixins switch features on as in the seed.
"""

from __future__ import annotations

import abc
import asyncio
import time
import warnings
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp
import orjson

from sfmonitor.logs import register_token
from sfmonitor.timefmt import iso_from_ms

from .bayeux import META_PREFIX
from .endpoints import check_instance_url, check_login_url
from .errors import (
    AuthenticationError,
    ClientStateError,
    ConnectionFailedError,
    TransportError,
    UsageError,
)
from .http import fetch_once
from .phase import Phase
from .policy import STALE_REPLAY_POLICIES, Policy
from .replay import MAX_REPLAY_ID, LiveSince, ReplayType, creation_time_of, usable_replay_id
from .session import STOP, CometdSession, Hooks
from .state import ConnectionState, Listener, Notice
from .transport import HttpOptions, SslOption

TOKEN_REPLY_LIMIT = 1 << 20  # an OAuth token reply is a few hundred bytes

JSONObject = dict[str, Any]
JSONList = list[JSONObject]

PRODUCTION_LOGIN = "https://login.salesforce.com"
SANDBOX_LOGIN = "https://test.salesforce.com"


class BaseSalesforceStreaming(abc.ABC):
    """Salesforce Streaming API client. Subclass with a connector (how to get a token).

    Constructing connects nothing; ``start()`` authenticates and handshakes; ``stop()``
    sends ``/meta/disconnect`` and closes everything.
    """

    #: follow reconnect advice and recover from errors (``AutoReconnectMixin`` sets it)
    auto_reconnect = False
    #: extra attempts for a subscribe that failed with a retryable error
    subscribe_retries = 0

    def __init__(
        self,
        *,
        sandbox: bool = False,
        version: str = "42.0",
        loop: Any = None,
        connector: aiohttp.BaseConnector | None = None,
        login_url: str | None = None,
        proxy: str | None = None,
        ssl: SslOption = True,
        connect_timeout: float = 30.0,
        request_timeout: float = 60.0,
        max_response_bytes: int = 64 << 20,
        stale_replay: str = "replay_all",
        on_notice: Listener | None = None,
        trusted_hosts: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        if loop is not None:
            warnings.warn(
                "the loop argument is ignored: the running loop is used",
                DeprecationWarning,
                stacklevel=2,
            )
        if stale_replay not in STALE_REPLAY_POLICIES:
            raise UsageError(f"stale_replay must be one of {', '.join(STALE_REPLAY_POLICIES)}")
        self.version = version
        self.sandbox = sandbox
        self.login_url = (login_url or (SANDBOX_LOGIN if sandbox else PRODUCTION_LOGIN)).rstrip("/")
        self.connector = connector
        self.http_options = HttpOptions(
            ssl=ssl,
            proxy=proxy,
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            max_response_bytes=max_response_bytes,
            connector=connector,
        )
        self.stale_replay = stale_replay
        #: hosts, besides Salesforce's and the login host, that may be the instance_url
        #: (exact names, or ``.example.com`` for a whole domain; see ``endpoints``)
        self.trusted_hosts = tuple(trusted_hosts)
        self.should_stop = False
        self._stop_requested = asyncio.Event()
        self._listeners: list[Listener] = [on_notice] if on_notice else []
        self._session: CometdSession | None = None
        super().__init__(**kwargs)

    # --- what connectors provide ---------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    @abc.abstractmethod
    async def fetch_token(self) -> tuple[str, str]:
        """Return ``(access_token, instance_url)``; raise AuthenticationError if refused."""

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Authenticate and handshake, then return: polling (the first ``/meta/connect``
        too, which stock CometD servers hold) goes on in the background, as in the seed.
        Raises if the login or the handshake fails, or ``ask_stop()`` or ``stop()`` is called
        meanwhile (``ConnectionFailedError``: a signal handler can stop a login that hangs)."""
        if self._session is not None:
            raise ClientStateError("already started: stop() it first")
        if self._stop_requested.is_set():
            raise ConnectionFailedError("stopped before connecting (ask_stop was called)")
        self.should_stop = False
        session = CometdSession(
            Hooks(self._login, self._initial_replay, self._resolve_version, self._notify),
            self.http_options,
            self.version,
            self._policy(),
        )
        self._session = session
        opening = asyncio.ensure_future(session.open())
        stopped = asyncio.ensure_future(self._stop_requested.wait())
        try:
            await asyncio.wait({opening, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not opening.done():
                opening.cancel()
                await asyncio.gather(opening, return_exceptions=True)
                await session.close()  # listeners hear "stopped", not "failed"
                raise ConnectionFailedError("stopped while connecting (ask_stop was called)")
            opening.result()
        except BaseException as exc:
            self._session = None
            if not opening.done():  # our caller was cancelled
                opening.cancel()
                await asyncio.gather(opening, return_exceptions=True)
            if session.phase is Phase.CLOSED and not isinstance(exc, ConnectionFailedError):
                # stop() closed the session while it was opening (the session refused to
                # go live): the same answer as for ask_stop()
                raise ConnectionFailedError("stopped while connecting (stop was called)") from exc
            raise
        finally:
            stopped.cancel()
        self.version = session.version

    async def stop(self) -> None:
        """Disconnect and close everything; iteration in other tasks ends."""
        self.should_stop = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._stop_requested.clear()  # the client may be started again

    async def __aenter__(self) -> BaseSalesforceStreaming:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def ask_stop(self) -> None:
        """End ``messages()``/``events()`` promptly, even while a long poll is pending; a
        ``start()`` under way (a login or handshake that hangs) fails at once."""
        self.should_stop = True
        self._stop_requested.set()
        if self._session is not None:
            self._session.stop_iteration()

    # --- subscriptions -------------------------------------------------------------------

    async def subscribe(self, channel: str, replay: int | ReplayType | None = None) -> JSONList:
        """Subscribe to ``channel``; returns the server's reply messages.

        Works from any task, while another iterates, and before the client is polling.
        ``replay`` (beyond the seed) overrides the stored replay id for this subscribe: -2,
        -1, or a replay id (1 to 2**63-1); anything else is a ``UsageError`` (a ValueError).
        """
        if replay is not None:
            try:
                value = int(replay)
            except (TypeError, ValueError, OverflowError):
                value = 0  # not a number: refused below
            if value not in (-2, -1) and usable_replay_id(value) is None:
                raise UsageError(f"replay must be -2, -1 or a replay id, not {replay!r}")
            replay = value
        return await self._require().subscribe(channel, replay)

    async def unsubscribe(self, channel: str) -> JSONList:
        return await self._require().unsubscribe(channel)

    @property
    def subscriptions(self) -> list[str]:
        return list(self._session.channels) if self._session else []

    @property
    def state(self) -> ConnectionState:
        return self._session.state if self._session else ConnectionState.STOPPED

    @property
    def client_id(self) -> str | None:
        return self._session.client_id if self._session else None

    @property
    def instance_url(self) -> str | None:
        return self._session.instance_url if self._session else None

    def add_listener(self, listener: Listener) -> None:
        """Receive every ``StateChange``, ``ChannelChange`` and ``GapNotice`` (synchronously)."""
        self._listeners.append(listener)

    # --- iteration -----------------------------------------------------------------------

    def messages(self) -> AsyncIterator[JSONObject]:
        """Every message received (meta replies included) until stopped."""
        return self._iterate(only_events=False)

    def events(self) -> AsyncIterator[JSONObject]:
        """Only events of the channels subscribed to, until stopped."""
        # Returned directly rather than re-yielded: one generator frame per event, not two.
        return self._iterate(only_events=True)

    async def _iterate(self, only_events: bool) -> AsyncIterator[JSONObject]:
        """The one pass over every received message: checks it, drops re-deliveries
        (a replay id not newer than the last one handed out on its channel), stores the
        replay id, filters, yields. Kept flat because it runs for every event.

        State (the last replay id, the stored resume point) is kept only for channels
        subscribed to: a server sending a million other channels costs no memory. A replay
        id that is not usable (``usable_replay_id``) never becomes that state either; its
        event is still delivered."""
        session = self._require()
        store = self._replay_store()
        queue = session.queue
        channels = session.channels
        high = session.high
        cutoff = session.cutoff
        while not self.should_stop:
            batch = await queue.get()
            if batch is STOP:
                if self.should_stop or self._session is not session:
                    return
                continue
            if isinstance(batch, BaseException):
                raise batch
            for m in batch:
                if self.should_stop:
                    return
                try:
                    channel = m["channel"]
                    rid = m["data"]["event"]["replayId"]
                except (KeyError, TypeError, IndexError):
                    # meta replies and odd messages take this slower path
                    if type(m) is not dict or type(m.get("channel")) is not str:
                        continue
                    if only_events and (
                        m["channel"].startswith(META_PREFIX) or m["channel"] not in channels
                    ):
                        continue
                    yield m
                    continue
                if type(channel) is not str:
                    continue
                if channel not in channels:
                    if not only_events:
                        yield m
                    continue
                if type(rid) is int and 0 < rid <= MAX_REPLAY_ID:
                    last = high.get(channel)
                    if last is not None and rid <= last:
                        continue  # a re-delivery (after a reconnect, or the server's)
                    if cutoff and session.before_cutoff(channel, m):
                        continue
                    high[channel] = rid
                    if store is not None:
                        created = creation_time_of(m) or iso_from_ms(int(time.time() * 1000))
                        await store(channel, rid, created)
                else:
                    session.unusable_replay_id(channel, rid)
                yield m

    # --- hooks for the engine and the mixins ---------------------------------------------

    def _replay_store(self) -> Any:
        """The bound ``store_replay_id`` when replay is supported (``ReplayMixin``)."""
        return None

    async def _initial_replay(self, channel: str) -> int | LiveSince:
        return int(ReplayType.NEW_EVENTS)

    async def _resolve_version(self, instance_url: str) -> str:
        return self.version

    def _policy(self) -> Policy:
        return Policy(
            auto_reconnect=self.auto_reconnect,
            stale_replay=self.stale_replay,
            subscribe_retries=self.subscribe_retries,
        )

    def _notify(self, notice: Notice) -> None:
        for listener in list(self._listeners):
            listener(notice)

    def _require(self) -> CometdSession:
        if self._session is None:
            raise ClientStateError("not started: call start() or use 'async with'")
        return self._session

    async def _login(self) -> tuple[str, str]:
        """``fetch_token`` under the address rules of ``endpoints``: no credentials to a
        plain-http login URL off loopback, no token to an instance_url that is not
        sensible; every token is registered with the log redactor as it arrives."""
        check_login_url(self.login_url)
        token, instance_url = await self.fetch_token()
        if isinstance(token, str):
            register_token(token)
        return token, check_instance_url(instance_url, self.login_url, self.trusted_hosts)

    # --- small HTTP helpers for connectors and mixins --------------------------------------

    async def _post_form(
        self, url: str, form: dict[str, str], connector: aiohttp.BaseConnector | None
    ) -> JSONObject:
        """POST an OAuth form; the parsed JSON, or AuthenticationError / TransportError.
        No redirect is followed (a 307 would re-post the form elsewhere), the reply is
        bounded to 1 MiB decoded, and the exchange to ``request_timeout``."""
        status, body = await fetch_once(
            "POST",
            url,
            self.http_options,
            what=f"login to {self.login_url}",
            limit=TOKEN_REPLY_LIMIT,
            data=form,
            headers={"Accept": "application/json"},
            connector=connector,
        )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or status >= 500:
            # an outage or a proxy page, not a verdict on the credentials: retried later
            raise TransportError(f"login to {self.login_url} failed: HTTP {status}")
        if status != 200 or "access_token" not in data:
            raise AuthenticationError(
                str(data.get("error", "error")), str(data.get("error_description", "")), status
            )
        return data
