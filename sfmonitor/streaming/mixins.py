"""Mixins that switch features on, as in aio-sf-streaming. Put them before the connector:

class MyClient(ReplayMixin, AutoReconnectMixin, PasswordSalesforceStreaming): ...
"""

from __future__ import annotations

import enum
import logging
from typing import Any

import orjson

from .errors import TransportError
from .http import fetch_once
from .replay import LiveSince, ReplayType, usable_replay_id

log = logging.getLogger(__name__)


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

    async def get_last_replay_id(self, channel: str) -> int | ReplayType | LiveSince | None:
        """The replay id to resume ``channel`` from, a ``ReplayType``, or a ``LiveSince``.

        As in aio-sf-streaming, any false value (``None``, ``0``) means "new events only",
        and any enum member counts by its value (the seed's own ``ReplayType`` too)."""
        return ReplayType.NEW_EVENTS

    def _replay_store(self) -> Any:
        # Skip the per-event await when the method was not overridden: it would do nothing.
        if type(self).store_replay_id is ReplayMixin.store_replay_id:
            return None
        return self.store_replay_id

    async def _initial_replay(self, channel: str) -> int | LiveSince:
        value: Any = await self.get_last_replay_id(channel)
        if isinstance(value, LiveSince):
            return value
        if isinstance(value, enum.Enum):
            value = value.value
        if not value:
            return int(ReplayType.NEW_EVENTS)  # the seed: "No response => only new events"
        try:
            replay = int(value)
        except (TypeError, ValueError, OverflowError):
            replay = 0
        if replay in (ReplayType.ALL_EVENTS, ReplayType.NEW_EVENTS) or usable_replay_id(replay):
            return replay
        # Not a replay id Salesforce could serve: resume from everything retained (the
        # store drops what it already has) rather than lose what was published meanwhile.
        fallback = ReplayType.NEW_EVENTS
        if getattr(self, "stale_replay", "replay_all") == "replay_all":
            fallback = ReplayType.ALL_EVENTS
        log.warning(
            "get_last_replay_id(%r) returned %.40r, which is not a replay id; subscribing "
            "with %d instead",
            channel,
            value,
            int(fallback),
        )
        return int(fallback)


class AutoVersionMixin:
    """Use the newest API version the instance offers (``GET /services/data/``)."""

    version: str
    http_options: Any

    async def _resolve_version(self, instance_url: str) -> str:
        _, body = await fetch_once(
            "GET",
            f"{instance_url}/services/data/",
            self.http_options,
            what="reading the API versions",
            limit=1 << 20,
        )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise TransportError(f"cannot read API versions: {exc}") from exc
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
