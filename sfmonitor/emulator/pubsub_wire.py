"""Wire helpers of the emulator's Pub/Sub server: errors as Salesforce sends them, and
``FetchResponse`` bytes assembled from events serialized once when published."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc

PREFIX = "sfdc.platform.eventbus.grpc."


def rpc_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class PubSubFailure(Exception):
    """An error an RPC ends with: gRPC status, ``error-code`` trailer, message."""

    status: grpc.StatusCode
    code: str  # "" for transport-level failures that carry no Salesforce code
    text: str


# The errors the emulator produces (guide "Handle Errors"; reference pubsub.md §1.4).
def auth_error() -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.UNAUTHENTICATED,
        PREFIX + "service.auth.error",
        "An authentication exception occurred. Provide valid authentication via metadata headers.",
    )


def headers_invalid(what: str) -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.UNAUTHENTICATED,
        PREFIX + "service.auth.headers.invalid",
        f"The {what} metadata header is missing or invalid.",
    )


def unavailable() -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.INTERNAL,
        PREFIX + "service.unavailable",
        "The service is unavailable. Try again later.",
    )


def replay_corrupted() -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.INVALID_ARGUMENT,
        PREFIX + "subscription.fetch.replayid.corrupted",
        "The Replay ID validation failed. Ensure that the replay_id field value in "
        "FetchRequest is valid and refers to an event that is within the retention window.",
    )


def replay_missing() -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.INVALID_ARGUMENT,
        PREFIX + "subscription.fetch.replayid.validation.failed",
        "A replay ID is required when the replay preset is CUSTOM.",
    )


def topic_mismatch(first: str, later: str) -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.INVALID_ARGUMENT,
        PREFIX + "subscription.fetch.topic.mismatch",
        f"The topic name {later} in FetchRequest does not match the subscribed topic {first}.",
    )


def allocation_exceeded() -> PubSubFailure:
    return PubSubFailure(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        PREFIX + "subscription.limit.exceeded",
        "You have exceeded the event delivery limit for your org.",
    )


def stream_reset() -> PubSubFailure:
    # a transport failure: no Salesforce code (guide: "UNAVAILABLE: RST_STREAM closed stream")
    return PubSubFailure(grpc.StatusCode.UNAVAILABLE, "", "RST_STREAM closed stream")


async def abort(context: Any, failure: PubSubFailure, rpc: str) -> NoReturn:
    """End the RPC with the status, ``error-code`` and ``rpc-id`` trailers, and the
    ``rpcId: ...`` suffix on the message (what every Salesforce error carries)."""
    trailers: tuple[tuple[str, str], ...] = (("rpc-id", rpc),)
    if failure.code:
        trailers = (("error-code", failure.code), *trailers)
    await context.abort(failure.status, f"{failure.text} rpcId: {rpc}", trailing_metadata=trailers)
    raise AssertionError("abort returned")  # pragma: no cover


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def fetch_response(events: list[bytes], latest: bytes, rpc: str, pending: int) -> bytes:
    """A serialized ``FetchResponse`` from serialized ``ConsumerEvent``s: fields 1 (events),
    2 (latest_replay_id), 3 (rpc_id), 4 (pending_num_requested), proto3 wire format."""
    parts = [b"\x0a" + _varint(len(e)) + e for e in events]
    if latest:
        parts.append(b"\x12" + _varint(len(latest)) + latest)
    if rpc:
        raw = rpc.encode()
        parts.append(b"\x1a" + _varint(len(raw)) + raw)
    if pending:
        parts.append(b"\x20" + _varint(pending))
    return b"".join(parts)
