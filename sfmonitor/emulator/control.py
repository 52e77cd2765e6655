"""The emulator-only control API under ``/__emulator/``: faults, load, clock, live settings.

Every fault here is also reachable in-process through ``Emulator`` methods; the HTTP form
exists so that tools in other languages (and the benchmarks' subprocesses) can drive it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from .faults import MALFORMED_KINDS, Pending
from .oauth import register_app
from .org import ChannelError
from .pubsub_faults import PUBSUB_FAULTS

if TYPE_CHECKING:
    from .server import Emulator

# Settings that may be changed while running (POST /__emulator/config).
LIVE_SETTINGS = {
    "connect_timeout",
    "max_interval",
    "max_events_per_reply",
    "coalesce_delay",
    "require_browser_cookie",
    "max_sessions_per_browser",
    "duplicate_connect_status",
    "max_concurrent_clients",
    "access_token_ttl",
    "replay_id_check",
    "accept_future_replay_id",
    "events_before_connect_reply",
    "unknown_client_advice",
    "daily_pushtopic_events",
    "daily_generic_events",
    "daily_platform_events",
    "cdc_event_uuid",
    "monitoring_created_date",
    "filtered_channel_keeps_query",
    "auto_approve",
    "block_password_flow",
    "auth_code_ttl",
    "org_is_sandbox",
    "org_type",
    "hold_first_connect",
    "resubscribe_replay",
    "publish_enqueued_status",
    "channel_missing_error",
    "query_page_size",
    "setup_refusal",
    "limits_refusal",
    "publish_checks_fields",
    "push_broadcast_fanout_minus_one",
    "hourly_published_platform_events",
    "monthly_platform_events_entitlement",
    "daily_api_requests",
}


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


def _bad(message: str) -> web.Response:
    return _json({"error": message}, 400)


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/__emulator/faults", self.fault),
            web.post("/__emulator/generate", self.generate),
            web.post("/__emulator/publish", self.publish),
            web.post("/__emulator/clock", self.clock),
            web.post("/__emulator/config", self.set_config),
            web.post("/__emulator/reset", self.reset),
            web.get("/__emulator/state", self.state),
            web.post("/__emulator/apps", self.apps),
        ]

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            data = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError as exc:
            raise web.HTTPBadRequest(text=f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        return data

    async def fault(self, request: web.Request) -> web.Response:
        """``{"fault": NAME, ...}``; see the README for every name and its parameters."""
        body = await self._body(request)
        name = body.get("fault")
        emu = self.emu
        try:
            count = int(body.get("count", 1))
            scope = str(body.get("scope", "cometd"))
            path = str(body.get("path", ""))  # only requests to this path (or query)
            if name == "revoke_tokens":
                n = emu.revoke_tokens(body.get("username"), bool(body.get("refresh", False)))
                return _json({"revoked": n})
            if name == "expire_sessions":
                return _json({"expired": emu.expire_sessions()})
            if name == "restart":
                return _json({"dropped": emu.restart(spare=request.transport)})
            if name == "http_error":
                status = int(body.get("status", 503))
                emu.faults.add(Pending("http_status", count, scope, status=status, path=path))
            elif name == "reset":
                emu.faults.add(Pending("reset", count, scope))
            elif name == "slow":
                emu.faults.add(Pending("slow", count, scope, delay=float(body.get("delay", 1))))
            elif name == "malformed":
                kind = str(body.get("kind", "truncated"))
                if kind not in MALFORMED_KINDS:
                    return _bad(f"kind must be one of {', '.join(MALFORMED_KINDS)}")
                emu.faults.add(Pending("malformed", count, scope, malformed=kind))
            elif name == "busy":
                emu.faults.busy += count
            elif name == "concurrent_limit":
                emu.org.config.max_concurrent_clients = int(body["max"])
            elif name == "exhaust_allocation":
                emu.exhaust_allocation(body.get("allocation"))
            elif name == "max_batch":
                emu.org.config.max_events_per_reply = int(body["max"])
            elif name in PUBSUB_FAULTS:
                if emu.pubsub is None:
                    return _bad("the Pub/Sub server is not running (--pubsub-port)")
                return _json(emu.pubsub.faults.apply(name, body))
            else:
                return _bad(f"unknown fault {name!r}")
        except (KeyError, TypeError, ValueError) as exc:
            return _bad(f"bad parameters for fault {name!r}: {exc}")
        return _json({"ok": True})

    async def generate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            n = await self.emu.generate(
                str(body["channel"]), int(body.get("count", 1)), int(body.get("payload_bytes", 512))
            )
        except (KeyError, ValueError, ChannelError) as exc:
            return _bad(str(exc))
        return _json({"published": n})

    async def publish(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            event = self.emu.org.publish_any(str(body["channel"]), body.get("payload", {}))
        except (KeyError, ValueError, ChannelError) as exc:
            return _bad(str(exc))
        return _json({"replayId": event.replay_id})

    async def clock(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            seconds = float(body.get("advance", 0))
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))
        if not math.isfinite(seconds):
            return _bad("advance must be a finite number of seconds (negative: back)")
        self.emu.org.clock.advance(seconds)
        return _json({"now_ms": self.emu.org.clock.now_ms()})

    async def set_config(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        config = self.emu.org.config
        for key, value in body.items():
            if key not in LIVE_SETTINGS:
                return _bad(f"{key!r} cannot be changed while running")
            current = getattr(config, key)
            if (
                current is not None
                and value is not None
                and not isinstance(value, type(current))
                and not (isinstance(current, float) and isinstance(value, int))
            ):
                return _bad(f"{key!r} expects {type(current).__name__}")
            setattr(config, key, value)
        return _json({k: v for k, v in dataclasses.asdict(config).items() if k in LIVE_SETTINGS})

    async def reset(self, request: web.Request) -> web.Response:
        self.emu.faults.clear()
        self.emu.org.exhausted.clear()
        if self.emu.pubsub is not None:
            self.emu.pubsub.faults.clear()
        return _json({"ok": True})

    async def state(self, request: web.Request) -> web.Response:
        return _json(self.emu.state())

    async def apps(self, request: web.Request) -> web.Response:
        """Register or change a connected app: ``client_id`` plus ConnectedApp fields
        (``callback_urls``, ``certificate`` for the JWT bearer flow, …)."""
        body = await self._body(request)
        try:
            app = register_app(self.emu.org, body)
        except (KeyError, TypeError, ValueError) as exc:
            return _bad(f"bad app: {exc}")
        return _json({"client_id": app.client_id})
