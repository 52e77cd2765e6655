"""``PubSubConnection``: one gRPC channel per org (HTTP/2 carries every topic), the
metadata of every call from a ``TokenSource``, schemas, topics, publish, and at most one
subscription per topic.

    async with PubSubConnection(tokens, "api.pubsub.salesforce.com:7443") as conn:
        conn.subscribe("/data/AccountChangeEvent", listener, ReplayFrom.earliest())
        ...
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import grpc.aio

from sfmonitor.timefmt import parse_time

from .errors import PubSubError, Reaction
from .proto import pubsub_api_pb2 as pb
from .proto import pubsub_api_pb2_grpc as pb_grpc
from .schemas import Schema, SchemaCache, SchemaStore
from .subscription import SubscribeSettings, SubscriptionListener, TopicSubscription
from .tokens import TokenSource

DEFAULT_ENDPOINT = "api.pubsub.salesforce.com:7443"
# HTTP/2 pings keep idle connections through NATs and show a dead peer (reference §1.10).
CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 64 << 20),
)
T = TypeVar("T")


@dataclass(frozen=True)
class PublishOutcome:
    """What the server said about one published event."""

    correlation_key: str
    replay_id: bytes  # empty when it failed
    error: str = ""  # Salesforce's words when the event was not published


class PubSubConnection:
    """One org's Pub/Sub API channel. ``close()`` (or leaving ``async with``) stops every
    subscription and closes the channel before the event loop ends."""

    def __init__(
        self,
        tokens: TokenSource,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        tls: bool = True,
        root_certificates: bytes | None = None,
        schema_store: SchemaStore | None = None,
        options: Sequence[tuple[str, Any]] = CHANNEL_OPTIONS,
    ) -> None:
        self.tokens = tokens
        self.endpoint = endpoint
        self._tls = tls
        self._roots = root_certificates
        self._options = list(options)
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None
        self._refreshing: asyncio.Future[None] | None = None
        self._refreshed_at = 0.0
        self.schemas = SchemaCache(self._fetch_schema, schema_store)
        self.subscriptions: dict[str, TopicSubscription] = {}
        self.streams_opened = 0
        self.closed = False

    # --- channel -------------------------------------------------------------------------

    def _ensure(self) -> Any:
        if self.closed:
            raise RuntimeError("the Pub/Sub connection is closed")
        if self._stub is None:
            if self._tls:
                creds = grpc.ssl_channel_credentials(root_certificates=self._roots)
                self._channel = grpc.aio.secure_channel(self.endpoint, creds, self._options)
            else:
                self._channel = grpc.aio.insecure_channel(self.endpoint, self._options)
            self._stub = pb_grpc.PubSubStub(self._channel)  # type: ignore[no-untyped-call]
        return self._stub

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return self.tokens.current().metadata()

    async def __aenter__(self) -> PubSubConnection:
        self._ensure()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop every subscription, then close the channel (explicitly: a gRPC channel left
        to the garbage collector at interpreter exit can crash it)."""
        self.closed = True
        subs = list(self.subscriptions.values())
        self.subscriptions.clear()
        await asyncio.gather(*(s.stop() for s in subs), return_exceptions=True)
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._stub = None

    # --- auth ----------------------------------------------------------------------------

    async def refresh_auth(self, since: float = 0.0) -> None:
        """Get new credentials once for every caller refused at the same time: a caller
        refused before the last refresh (``since``) just retries with the new token."""
        if since and since < self._refreshed_at:
            return
        if self._refreshing is not None:
            await asyncio.shield(self._refreshing)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._refreshing = future
        try:
            await self.tokens.refresh()
            self._refreshed_at = time.monotonic()
            future.set_result(None)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            self._refreshing = None

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """A unary call; a refused token is refreshed once and the call repeated."""
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                return await make()
            except grpc.aio.AioRpcError as exc:
                error = PubSubError.from_rpc_error(exc)
                if attempt == 2 or error.reaction is not Reaction.REFRESH_AUTH:
                    raise error from None
            await self.refresh_auth(started)
        raise AssertionError("unreachable")

    # --- topics, schemas, publish ------------------------------------------------------------

    async def get_topic(self, topic: str) -> Any:
        """``TopicInfo`` of a topic (can_publish, can_subscribe, schema_id, ...)."""
        stub = self._ensure()
        request = pb.TopicRequest(topic_name=topic)
        return await self._call(lambda: stub.GetTopic(request, metadata=self.metadata()))

    async def _fetch_schema(self, schema_id: str) -> str:
        stub = self._ensure()
        request = pb.SchemaRequest(schema_id=schema_id)
        info = await self._call(lambda: stub.GetSchema(request, metadata=self.metadata()))
        return str(info.schema_json)

    async def get_schema(self, schema_id: str) -> Schema:
        return await self.schemas.get(schema_id)

    async def publish(
        self, topic: str, records: Sequence[Mapping[str, Any]]
    ) -> list[PublishOutcome]:
        """Publish platform events: the topic's schema comes from GetTopic/GetSchema, missing
        fields are filled (null, or now for CreatedDate), each event gets a correlation key."""
        info = await self.get_topic(topic)
        if not info.can_publish:
            raise PubSubError("FAILED_PRECONDITION", f"{topic} does not accept publishing")
        schema = await self.schemas.get(info.schema_id)
        events = [
            pb.ProducerEvent(
                id=str(uuid.uuid4()),
                schema_id=schema.schema_id,
                payload=schema.encode(fill(schema, r)),
            )
            for r in records
        ]
        stub = self._ensure()
        request = pb.PublishRequest(topic_name=topic, events=events)
        response = await self._call(lambda: stub.Publish(request, metadata=self.metadata()))
        return [
            PublishOutcome(
                r.correlation_key, bytes(r.replay_id), r.error.msg if r.HasField("error") else ""
            )
            for r in response.results
        ]

    # --- subscriptions ---------------------------------------------------------------------

    def subscribe(
        self,
        topic: str,
        listener: SubscriptionListener,
        replay: Any = None,
        settings: SubscribeSettings | None = None,
    ) -> TopicSubscription:
        """Start one stream for ``topic``; a second subscribe to a live topic is refused
        (two streams for one topic deliver every event twice)."""
        from .replay import ReplayFrom

        existing = self.subscriptions.get(topic)
        if existing is not None and existing.running:
            raise ValueError(f"{topic} is already subscribed on this connection")
        sub = TopicSubscription(
            self, topic, listener, replay or ReplayFrom.latest(), settings or SubscribeSettings()
        )
        self.subscriptions[topic] = sub
        sub.start()
        return sub

    async def unsubscribe(self, topic: str) -> None:
        sub = self.subscriptions.pop(topic, None)
        if sub is not None:
            await sub.stop()

    def open_stream(self) -> Any:
        """A new ``Subscribe`` call (read/write style) with the current metadata."""
        stub = self._ensure()
        self.streams_opened += 1
        return stub.Subscribe(metadata=self.metadata())


def fill(schema: Schema, values: Mapping[str, Any]) -> dict[str, Any]:
    """A complete record for ``schema`` from ``values``: ISO date-times to epoch ms, absent
    nullable fields null, absent required ones a neutral value (CreatedDate: now)."""
    record: dict[str, Any] = {}
    for f in schema.fields:
        name = str(f["name"])
        value = values.get(name)
        if name in schema.datetime_fields and isinstance(value, str):
            parsed = parse_time(value)
            value = int(parsed.timestamp() * 1000) if parsed else None
        if value is None:
            value = _neutral(name, f.get("type"), schema)
        record[name] = value
    unknown = set(values) - {str(f["name"]) for f in schema.fields}
    if unknown:
        raise ValueError(f"not fields of {schema.schema_id}: {', '.join(sorted(unknown))}")
    return record


def _neutral(name: str, avro_type: Any, schema: Schema) -> Any:
    if isinstance(avro_type, list) and "null" in avro_type:
        return None
    if name in schema.datetime_fields:
        return int(time.time() * 1000)
    neutral = {"string": "", "long": 0, "int": 0, "double": 0.0, "float": 0.0, "boolean": False}
    return neutral.get(avro_type) if isinstance(avro_type, str) else None
