"""Errors of the Pub/Sub API and what a subscriber does about each.

Salesforce puts its own code in the ``error-code`` trailer (``sfdc.platform.eventbus.grpc.*``)
and the rpc id in the ``rpc-id`` trailer and after ``rpcId:`` in the message
(pub-sub-api guide, "Handle Errors"; reference pubsub.md §1.4). Every error ends a stream.
"""

from __future__ import annotations

import enum
import re
from typing import Any

PREFIX = "sfdc.platform.eventbus.grpc."


class Reaction(enum.StrEnum):
    REFRESH_AUTH = "refresh_auth"  # new token, resubscribe from the stored replay id
    GAP = "gap"  # the replay id cannot be served: gap notice, then the stale-replay policy
    STOP = "stop"  # retrying cannot help: the topic stops with the server's words
    RETRY = "retry"  # transient: backoff with jitter, resubscribe from the stored replay id


AUTH_CODES = frozenset({PREFIX + "service.auth.error", PREFIX + "service.auth.refresh.invalid"})
GAP_CODES = frozenset(
    {
        PREFIX + "subscription.fetch.replayid.corrupted",
        PREFIX + "subscription.fetch.replayid.validation.failed",
    }
)
STOP_CODES = frozenset(
    {
        PREFIX + "topic.not.found",
        PREFIX + "topic.notfound",  # spelling seen in other clients; both stop
        PREFIX + "topic.meta.permission",
        PREFIX + "topic.validation.empty",
        PREFIX + "schema.meta.permission",
        PREFIX + "subscription.topic.cannot.subscribe",
        PREFIX + "subscription.limit.exceeded",  # the org's delivery allocation is used up
        PREFIX + "subscription.fetch.topic.mismatch",
        PREFIX + "subscription.fetch.request.invalid",
        PREFIX + "subscription.fetch.requested.events.invalid",
        PREFIX + "service.tenant.license",
        PREFIX + "service.auth.headers.invalid",  # wrong instance URL or org id: config
    }
)

_RPC_ID = re.compile(r"rpcId:\s*(\S+)")


def reaction_of(error_code: str) -> Reaction:
    """The subscriber's reaction to an ``error-code`` trailer value ("" when absent)."""
    if error_code in AUTH_CODES:
        return Reaction.REFRESH_AUTH
    if error_code in GAP_CODES:
        return Reaction.GAP
    if error_code in STOP_CODES:
        return Reaction.STOP
    return Reaction.RETRY


class PubSubError(Exception):
    """An RPC failed. ``str()`` is Salesforce's message verbatim (it ends with the rpc id)."""

    def __init__(self, status: str, details: str, error_code: str = "", rpc_id: str = "") -> None:
        super().__init__(details or status)
        self.status = status  # gRPC status name, e.g. INVALID_ARGUMENT
        self.details = details
        self.error_code = error_code
        self.rpc_id = rpc_id

    @property
    def reaction(self) -> Reaction:
        return reaction_of(self.error_code)

    def describe(self) -> str:
        """One line for people: the message, the code, the rpc id when the message lacks it."""
        text = self.details or self.status
        if self.error_code:
            text += f" [{self.error_code}]"
        if self.rpc_id and self.rpc_id not in text:
            text += f" rpcId: {self.rpc_id}"
        return text

    @classmethod
    def from_rpc_error(cls, exc: Any) -> PubSubError:
        """From a ``grpc.aio.AioRpcError`` (or any ``grpc.RpcError`` with trailers)."""
        trailers = _pairs(exc.trailing_metadata())
        details = exc.details() or ""
        rpc_id = trailers.get("rpc-id", "")
        if not rpc_id:
            match = _RPC_ID.search(details)
            rpc_id = match.group(1) if match else ""
        status = getattr(exc.code(), "name", str(exc.code()))
        return cls(status, details, trailers.get("error-code", ""), rpc_id)


def _pairs(metadata: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in metadata or ():
        out.setdefault(str(key), value.decode() if isinstance(value, bytes) else str(value))
    return out
