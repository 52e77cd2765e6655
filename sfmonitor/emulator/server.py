"""The emulator as an aiohttp application, with an in-process API for tests and the demo.

async with Emulator() as emu:          # listens on 127.0.0.1, a free port
    emu.url                            # http://127.0.0.1:PORT (the org's instance_url)
    emu.org.publish_any("/event/Low_Ink__e", {...})
    emu.restart()                      # drop every session and open connection
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import load
from .authorize import AuthorizeEndpoint
from .bayeux import CometdEndpoint, DuplicateConnect
from .clock import Clock
from .config import EmulatorConfig
from .control import ControlApi
from .faults import MAINTENANCE_PAGE, FaultPlan, Pending
from .oauth import TokenEndpoint
from .org import ALLOCATION_OF_KIND, Org, sweep_forever
from .rest import RestApi
from .scenarios import Scenario

if TYPE_CHECKING:
    from .pubsub_server import PubSubServer

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _scope(path: str) -> str | None:
    if path.startswith("/cometd"):
        return "cometd"
    if path.startswith("/services/oauth2/"):
        return "oauth"
    if path.startswith("/services/"):
        return "rest"
    return None


def _malformed_body(kind: str, body: bytes) -> tuple[bytes, str]:
    if kind == "truncated":
        return body[: max(1, len(body) // 2)], "application/json"
    if kind == "html":
        return MAINTENANCE_PAGE.encode(), "text/html"
    if kind == "not_json":
        return b"upstream connect error or disconnect/reset before headers", "text/plain"
    if kind == "wrong_types":
        return (
            b'[{"channel":42,"successful":"yes","id":null,"clientId":[],"advice":"retry"}]',
            "application/json",
        )
    return b"", "application/json"


class Emulator:
    """One emulated org served over HTTP(S)."""

    def __init__(self, config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        self.org = Org(config or EmulatorConfig(), clock or Clock())
        self.faults = FaultPlan()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.cometd = CometdEndpoint(self.org, self.faults)
        self.app = self._build_app()
        self.pubsub: PubSubServer | None = None  # start_pubsub() adds the gRPC server

    # --- application ---------------------------------------------------------------------

    def _base_url(self, request: web.Request) -> str:
        return self.org.config.public_url or f"{request.scheme}://{request.host}"

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._fault_middleware], client_max_size=64 << 20)
        app.on_response_prepare.append(self._date_header)
        rest = RestApi(self.org)
        token = TokenEndpoint(self.org, self._base_url)
        app.add_routes(AuthorizeEndpoint(self.org, token.codes).routes())
        app.add_routes(
            [
                web.post("/services/oauth2/token", token.handle),
                web.get("/services/oauth2/userinfo", rest.userinfo),
                web.get("/services/data", rest.versions),
                web.get("/services/data/", rest.versions),
                web.route("*", "/services/data/{version}/{tail:.*}", rest.handle),
                web.post("/cometd", self._cometd),
                web.post("/cometd/", self._cometd),
                web.post("/cometd/{version}", self._cometd),
                web.post("/cometd/{version}/", self._cometd),
            ]
        )
        if self.org.config.control_api:
            app.add_routes(ControlApi(self).routes())
        return app

    async def _date_header(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every reply's ``Date`` is the org's time (the movable clock), as Salesforce's is
        its own: a client compares event creation dates with it, not with its own clock."""
        response.headers["Date"] = email.utils.formatdate(self.org.clock.now(), usegmt=True)

    async def _cometd(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self.cometd.handle(request)
        except DuplicateConnect:
            status = self.org.config.duplicate_connect_status
            return web.Response(status=status, text="superseded by a newer /meta/connect")

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        scope = _scope(request.path)
        target = f"{request.path} {request.query.get('q', '')}"
        fault = self.faults.take(scope, target) if scope else None
        try:
            if fault is None:
                return await handler(request)
            return await self._apply(fault, request, handler)
        except web.HTTPException:
            raise
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:
            # A bug of the emulator must not look like a traceback from Salesforce.
            log.exception("emulator error on %s %s", request.method, request.path)
            return web.Response(
                status=500,
                content_type="application/json",
                text='[{"errorCode":"UNKNOWN_EXCEPTION","message":"An unexpected error '
                'occurred. Please include this ErrorId if you contact support."}]',
            )

    async def _apply(
        self, fault: Pending, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return await handler(request)
        if fault.kind == "http_status":
            return web.Response(
                status=fault.status, text=MAINTENANCE_PAGE, content_type="text/html"
            )
        response = await handler(request)
        body = response.body if isinstance(response, web.Response) else b""
        raw = body if isinstance(body, bytes) else b""
        if fault.kind == "malformed":
            data, ctype = _malformed_body(fault.malformed, raw)
            out = web.StreamResponse(status=200, headers={"Content-Type": ctype})
            out.content_length = len(raw) if fault.malformed == "truncated" else len(data)
            await out.prepare(request)
            await out.write(data)
            if fault.malformed == "truncated" and request.transport is not None:
                request.transport.abort()
            return out
        # "reset": headers and half of the body, then the connection is cut
        out = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        out.content_length = len(raw)
        await out.prepare(request)
        await out.write(raw[: len(raw) // 2])
        if request.transport is not None:
            request.transport.abort()
        return out

    # --- lifecycle -------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> str:
        """Listen and return the base URL (also ``self.url``)."""
        self._runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=2.0, handle_signals=False
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound = self._runner.addresses[0]
        scheme = "https" if ssl_context else "http"
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        self.url = f"{scheme}://{shown}:{bound[1]}"
        self.spawn(sweep_forever(self.org))
        return self.url

    async def start_pubsub(
        self, host: str = "127.0.0.1", port: int = 0, tls: tuple[bytes, bytes] | None = None
    ) -> str:
        """Serve the Pub/Sub API (gRPC) over the same org; ``tls`` is (cert PEM, key PEM).
        Returns ``host:port``. Imported here so that CometD-only runs never load gRPC."""
        from .pubsub_server import PubSubServer

        if self.pubsub is None:
            self.pubsub = PubSubServer(self)
            await self.pubsub.start(host, port, tls)
        return self.pubsub.address

    async def stop(self) -> None:
        if self.pubsub is not None:
            await self.pubsub.stop()
            self.pubsub = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.org.expire_all_sessions()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        if not self._runner:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a background task owned by the emulator (cancelled by ``stop``)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- in-process control ----------------------------------------------------------------

    def revoke_tokens(self, username: str | None = None, refresh: bool = False) -> int:
        return self.org.revoke_tokens(username, refresh)

    def expire_sessions(self) -> int:
        """Every CometD session ends; clients get ``403::Unknown client`` next."""
        return self.org.expire_all_sessions()

    def restart(self, spare: Any = None) -> int:
        """A simulated server restart: open connections are cut and all sessions dropped.

        ``spare`` is a transport to leave open (the control request asking for the restart).
        """
        if self._runner is not None and self._runner.server is not None:
            for proto in self._runner.server.connections:
                if proto.transport is not None and proto.transport is not spare:
                    proto.transport.abort()
        return self.org.expire_all_sessions()

    def exhaust_allocation(self, allocation: str | None = None) -> None:
        names = set(ALLOCATION_OF_KIND.values()) if allocation is None else {allocation}
        self.org.exhausted |= names

    async def generate(self, channel: str, count: int, payload_bytes: int = 512) -> int:
        return await load.generate(self.org, channel, count, payload_bytes)

    def start_scenario(self, seed: int = 1, rate: float = 5.0) -> Scenario:
        scenario = Scenario(self.org, seed=seed, rate=rate)
        self.spawn(scenario.run())
        return scenario

    def state(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sessions": [
                {
                    "clientId": s.client_id,
                    "username": s.username,
                    "subscriptions": sorted(s.subscriptions),
                    "queued": len(s.queue),
                    "delivered": s.delivered,
                    "holding": s.held is not None and not s.held.done(),
                }
                for s in self.org.sessions.values()
            ],
            "channels": {
                name: {
                    "kind": log.kind.value,
                    "published": log.published,
                    "retained": len(log.events),
                    "lastReplayId": log.last_replay_id,
                }
                for name, log in self.org.channels.items()
            },
            "faults": {
                "pending": [vars(p) for p in self.faults.pending],
                "busy": self.faults.busy,
                "fired": dict(self.faults.fired),
            },
            "clock_ms": self.org.clock.now_ms(),
            "pubsub": self.pubsub.state() if self.pubsub is not None else None,
        }
