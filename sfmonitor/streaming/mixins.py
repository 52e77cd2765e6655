"""Mixins that switch features on, as in aio-sf-streaming. Put them before the connector:

class MyClient(ReplayMixin, AutoReconnectMixin, PasswordSalesforceStreaming): ...
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from .errors import TransportError
from .replay import LiveSince, ReplayType
from .transport import describe, read_bounded, ssl_context


class TimeoutAdviceMixin:
    """Follow the server's ``advice.timeout`` for the HTTP read timeout.

    The engine always does (advice.timeout + a margin, reference §2.5); the mixin is kept
    so that code composed for aio-sf-streaming still works.
    """


class ReplayMixin:
    """Replay support: override ``store_replay_id`` and ``get_last_replay_id``.

    ``store_replay_id`` is called for every event with the channel, its replay id and its
    creation time as an ISO-8601 string, read from where each kind keeps it (PushTopic and
    generic ``createdDate``, platform events ``CreatedDate``, CDC ``commitTimestamp``
    converted, monitoring ``EventDate``); the receive time when the event has none.
    """

    async def store_replay_id(self, channel: str, replay_id: int, creation_time: str) -> None:
        """Persist the replay id of an event (default: nothing is stored)."""

    async def get_last_replay_id(self, channel: str) -> int | ReplayType | LiveSince:
        """The replay id to resume ``channel`` from, a ``ReplayType``, or a ``LiveSince``."""
        return ReplayType.NEW_EVENTS

    def _replay_store(self) -> Any:
        # Skip the per-event await when the method was not overridden: it would do nothing.
        if type(self).store_replay_id is ReplayMixin.store_replay_id:
            return None
        return self.store_replay_id

    async def _initial_replay(self, channel: str) -> int | LiveSince:
        value = await self.get_last_replay_id(channel)
        return value if isinstance(value, LiveSince) else int(value)


class AutoVersionMixin:
    """Use the newest API version the instance offers (``GET /services/data/``)."""

    auto_version = True
    version: str
    http_options: Any

    async def _resolve_version(self, instance_url: str) -> str:
        opts = self.http_options
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(
                    f"{instance_url}/services/data/",
                    proxy=opts.proxy,
                    ssl=ssl_context(opts.ssl),
                    timeout=aiohttp.ClientTimeout(total=opts.request_timeout),
                ) as resp,
            ):
                data = orjson.loads(await read_bounded(resp, 1 << 20))
        except (aiohttp.ClientError, TimeoutError, OSError, orjson.JSONDecodeError) as exc:
            raise TransportError(f"cannot read API versions: {describe(exc)}") from exc
        if isinstance(data, list) and data and isinstance(data[-1], dict):
            return str(data[-1].get("version", self.version))
        return self.version


class AutoReconnectMixin:
    """Re-handshake, re-authenticate and re-subscribe by itself instead of failing."""

    auto_reconnect = True


class ReSubscribeMixin:
    """Retry a subscribe that failed with a retryable error (server busy, transport)."""

    def __init__(
        self,
        *args: Any,
        retry_sub_duration: float = 0.1,
        retry_factor: float = 1.0,
        retry_max_duration: float = 30.0,
        retry_max_count: int = 20,
        **kwargs: Any,
    ) -> None:
        self.retry_sub_duration = retry_sub_duration
        self.retry_factor = retry_factor
        self.retry_max_duration = retry_max_duration
        self.retry_max_count = retry_max_count
        super().__init__(*args, **kwargs)

    def _policy(self) -> Any:
        policy = super()._policy()  # type: ignore[misc]
        policy.subscribe_retries = self.retry_max_count
        policy.subscribe_retry_delay = self.retry_sub_duration
        policy.subscribe_retry_factor = self.retry_factor
        policy.subscribe_retry_max_delay = self.retry_max_duration
        return policy


class AllMixin(
    TimeoutAdviceMixin, ReplayMixin, AutoVersionMixin, AutoReconnectMixin, ReSubscribeMixin
):
    """Every mixin at once."""
