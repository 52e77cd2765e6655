"""The emulator's Pub/Sub API: a ``grpc.aio`` server over the same ``Org`` as the CometD and
REST endpoints. An event published by REST, by ``Publish`` or by a scenario is one
retained event with one replay id, delivered on both APIs (8-byte big-endian here).

Behaviour follows Salesforce's documentation (reference pubsub.md §1.2-1.4, §1.10): the
three metadata keys are checked on every call; credit is summed over FetchRequests and
capped at 100; exactly the requested number of events is sent; every response carries
``pending_num_requested`` and ``latest_replay_id``; keepalives when there is nothing to
send; a stream left without credit past the limit is closed; errors carry ``error-code``
and ``rpc-id`` trailers and end with ``rpcId: ...``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
import orjson

from sfmonitor.pubsub.proto import pubsub_api_pb2 as pb

from . import pubsub_wire as wire
from .avro_events import AvroCatalog
from .channels import ChannelKind, ChannelLog, RetainedEvent, classify
from .org import ALLOCATION_OF_KIND, AuthInvalid
from .pubsub_faults import PubSubFaults
from .pubsub_wire import PubSubFailure, abort, rpc_id

if TYPE_CHECKING:
    from .server import Emulator

SERVED_KINDS = (ChannelKind.PLATFORM_EVENT, ChannelKind.CHANGE_EVENT, ChannelKind.MONITORING)
SERVER_OPTIONS = (
    # clients ping idle connections (Salesforce's own examples do every 60 s or less)
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_pings_without_data", 0),
)


def _replay_bytes(value: int) -> bytes:
    return value.to_bytes(8, "big")


@dataclass(eq=False)
class Stream:
    """One open Subscribe call."""

    topic: str
    base: str
    kind: ChannelKind
    log: ChannelLog
    token: str
    rpc: str
    cursor: int = 0  # replay id of the last event sent (or the start point)
    credit: int = 0  # events requested and not yet sent
    sent: int = 0
    failure: PubSubFailure | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class PubSubServer:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.org = emulator.org
        self.catalog = AvroCatalog()
        self.encoded: dict[str, dict[int, bytes]] = {}  # channel -> replay id -> ConsumerEvent
        self.streams: dict[str, set[Stream]] = {}
        self.faults = PubSubFaults()
        self.server: grpc.aio.Server | None = None
        self.address = ""
        self.counts = {"subscribe": 0, "publish": 0, "keepalive": 0, "delivered": 0}
        self.org.publish_hooks.append(self._on_publish)

    @property
    def settings(self) -> Any:
        return self.org.config.pubsub

    # --- lifecycle -------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, tls: tuple[bytes, bytes] | None = None
    ) -> str:
        """Listen; ``tls`` is (certificate chain PEM, private key PEM). Returns host:port."""
        server = grpc.aio.server(options=SERVER_OPTIONS)
        server.add_generic_rpc_handlers((self._handlers(),))
        address = f"{host}:{port}"
        if tls is None:
            bound = server.add_insecure_port(address)
        else:
            credentials = grpc.ssl_server_credentials([(tls[1], tls[0])])
            bound = server.add_secure_port(address, credentials)
        await server.start()
        self.server = server
        self.address = f"{host}:{bound}"
        return self.address

    async def stop(self) -> None:
        """End open streams (UNAVAILABLE, as a server going away does), then the server."""
        with contextlib.suppress(ValueError):
            self.org.publish_hooks.remove(self._on_publish)
        self.faults.clear()
        for streams in self.streams.values():
            for stream in streams:
                stream.failure = wire.stream_reset()
                stream.wake.set()
        if self.server is not None:
            await self.server.stop(1.0)
            self.server = None

    def _handlers(self) -> Any:
        def identity(data: bytes) -> bytes:
            return data

        return grpc.method_handlers_generic_handler(
            "eventbus.v1.PubSub",
            {
                "Subscribe": grpc.stream_stream_rpc_method_handler(
                    self._subscribe, pb.FetchRequest.FromString, identity
                ),
                "GetSchema": grpc.unary_unary_rpc_method_handler(
                    self._get_schema, pb.SchemaRequest.FromString, pb.SchemaInfo.SerializeToString
                ),
                "GetTopic": grpc.unary_unary_rpc_method_handler(
                    self._get_topic, pb.TopicRequest.FromString, pb.TopicInfo.SerializeToString
                ),
                "Publish": grpc.unary_unary_rpc_method_handler(
                    self._publish,
                    pb.PublishRequest.FromString,
                    pb.PublishResponse.SerializeToString,
                ),
                "PublishStream": grpc.stream_stream_rpc_method_handler(
                    self._publish_stream,
                    pb.PublishRequest.FromString,
                    pb.PublishResponse.SerializeToString,
                ),
            },
        )

    # --- events ----------------------------------------------------------------------------

    def _on_publish(
        self, base: str, kind: ChannelKind, event: RetainedEvent, message: dict[str, Any]
    ) -> None:
        """Org hook: encode the new event once, wake the streams of its channel."""
        if kind not in SERVED_KINDS:
            return
        self._consumer_bytes(base, kind, event, message)
        for stream in self.streams.get(base, ()):
            stream.wake.set()

    def _consumer_bytes(
        self,
        base: str,
        kind: ChannelKind,
        event: RetainedEvent,
        message: dict[str, Any] | None = None,
    ) -> bytes:
        cache = self.encoded.setdefault(base, {})
        data = cache.get(event.replay_id)
        if data is None:
            if message is None:
                message = orjson.loads(event.body)
            schema_id, payload = self.catalog.encode(kind, base, message)
            uuid_ = ((message.get("data") or {}).get("event") or {}).get("EventUuid") or ""
            data = pb.ConsumerEvent(
                event=pb.ProducerEvent(id=str(uuid_), schema_id=schema_id, payload=payload),
                replay_id=_replay_bytes(event.replay_id),
            ).SerializeToString()
            cache[event.replay_id] = data
        return data

    # --- checks ----------------------------------------------------------------------------

    def _gate(self, context: Any) -> str:
        """Faults first, then the metadata: returns the access token."""
        if self.faults.take_unavailable():
            raise wire.unavailable()
        meta = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        token = meta.get("accesstoken", "")
        try:
            self.org.check_token(token)
        except AuthInvalid:
            raise wire.auth_error() from None
        if self.settings.check_instance_url:
            expected = (self.org.config.public_url or self.emu.url).rstrip("/")
            if meta.get("instanceurl", "").rstrip("/") != expected:
                raise wire.headers_invalid("instanceurl")
        tenant = meta.get("tenantid", "")
        if len(tenant) not in self.settings.tenant_id_lengths or not self.org.org_id.startswith(
            tenant
        ):
            raise wire.headers_invalid("tenantid")
        return token

    def _topic(self, name: str) -> tuple[str, ChannelKind, ChannelLog]:
        kind = classify(name)
        if kind not in SERVED_KINDS or "?" in name or not self.org.channel_exists(name, kind):
            raise PubSubFailure(
                grpc.StatusCode.NOT_FOUND,
                self.settings.topic_not_found_code,
                self.settings.topic_not_found_text.format(topic=name),
            )
        assert kind is not None
        return name, kind, self.org.log_for(name, kind)

    def _check_allocation(self, kind: ChannelKind) -> str | None:
        allocation = ALLOCATION_OF_KIND.get(kind)
        if allocation and self.org.allocation_remaining(allocation) <= 0:
            raise wire.allocation_exceeded()
        return allocation

    def _start_point(self, log: ChannelLog, request: Any) -> int:
        log.purge(self.org.clock.now_ms())
        preset = request.replay_preset
        if preset == pb.LATEST:
            return log.last_replay_id
        if preset == pb.EARLIEST:
            return log.events[0].replay_id - 1 if log.events else log.last_replay_id
        if not request.replay_id:
            raise wire.replay_missing()
        if len(request.replay_id) != 8:
            raise wire.replay_corrupted()
        value = int.from_bytes(request.replay_id, "big")
        config = self.org.config
        exact = config.replay_id_check == "exact"
        if not log.replay_id_valid(value, exact, config.accept_future_replay_id):
            raise wire.replay_corrupted()
        return value

    # --- unary calls -------------------------------------------------------------------------

    async def _get_topic(self, request: Any, context: Any) -> Any:
        rpc = rpc_id()
        try:
            self._gate(context)
            base, kind, _ = self._topic(request.topic_name)
            layout = self.catalog.layout_for(kind, base.rpartition("/")[2])
        except PubSubFailure as failure:
            await abort(context, failure, rpc)
        return pb.TopicInfo(
            topic_name=request.topic_name,
            tenant_guid=self.org.org_id,
            can_publish=kind is ChannelKind.PLATFORM_EVENT,
            can_subscribe=True,
            schema_id=layout.schema_id,
            rpc_id=rpc,
        )

    async def _get_schema(self, request: Any, context: Any) -> Any:
        rpc = rpc_id()
        try:
            self._gate(context)
            text = self.catalog.schema_json(request.schema_id)
            if text is None:
                raise PubSubFailure(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    wire.PREFIX + "schema.validation.failed",
                    f"The schema ID {request.schema_id} is not valid.",
                )
        except PubSubFailure as failure:
            await abort(context, failure, rpc)
        return pb.SchemaInfo(schema_json=text, schema_id=request.schema_id, rpc_id=rpc)

    async def _publish(self, request: Any, context: Any) -> Any:
        rpc = rpc_id()
        try:
            token = self._gate(context)
            return self._publish_events(request, token, rpc)
        except PubSubFailure as failure:
            await abort(context, failure, rpc)

    async def _publish_stream(self, request_iterator: Any, context: Any) -> Any:
        rpc = rpc_id()
        try:
            token = self._gate(context)
            async for request in request_iterator:
                yield self._publish_events(request, token, rpc)
        except PubSubFailure as failure:
            await abort(context, failure, rpc)

    def _publish_events(self, request: Any, token: str, rpc: str) -> Any:
        base, kind, _ = self._topic(request.topic_name)
        name = base.rpartition("/")[2]
        username = self.org.check_token(token)
        results = []
        for event in request.events:
            key = event.id
            try:
                if kind is not ChannelKind.PLATFORM_EVENT:
                    raise ValueError(f"Publishing to {base} is not allowed.")
                record = self.catalog.decode(event.schema_id, event.payload)
                fields = {
                    k: v
                    for k, v in record.items()
                    if k not in ("CreatedDate", "CreatedById") and v is not None
                }
                retained = self.org.publish_platform_event(name, fields, username)
            except (KeyError, ValueError) as exc:
                error = pb.Error(code=pb.PUBLISH, msg=str(exc).strip("'\""))
                results.append(pb.PublishResult(error=error, correlation_key=key))
                continue
            self.counts["publish"] += 1
            replay = _replay_bytes(retained.replay_id)
            results.append(pb.PublishResult(replay_id=replay, correlation_key=key))
        schema_id = self.catalog.layout_for(kind, name).schema_id
        return pb.PublishResponse(results=results, schema_id=schema_id, rpc_id=rpc)

    # --- Subscribe -------------------------------------------------------------------------

    async def _subscribe(self, request_iterator: Any, context: Any) -> None:
        rpc = rpc_id()
        try:
            token = self._gate(context)
            first = await context.read()
            if first is grpc.aio.EOF:
                return
            base, kind, log = self._topic(first.topic_name)
            stream = Stream(first.topic_name, base, kind, log, token, rpc)
            stream.cursor = self._start_point(log, first)
            self._check_allocation(kind)
            stream.credit = min(max(first.num_requested, 0), self.settings.max_outstanding)
            self.counts["subscribe"] += 1
            await self._serve(context, stream)
        except PubSubFailure as failure:
            await abort(context, failure, rpc)

    async def _serve(self, context: Any, stream: Stream) -> None:
        self.streams.setdefault(stream.base, set()).add(stream)
        self.faults.streams.add(stream)
        reader = asyncio.ensure_future(self._read_requests(context, stream))
        try:
            await self._deliver_loop(context, stream)
        finally:
            reader.cancel()
            self.streams[stream.base].discard(stream)
            self.faults.streams.discard(stream)

    async def _read_requests(self, context: Any, stream: Stream) -> None:
        """Later FetchRequests add credit (capped); a different topic ends the stream."""
        while True:
            request = await context.read()
            if request is grpc.aio.EOF:
                return
            if request.topic_name and request.topic_name != stream.topic:
                stream.failure = wire.topic_mismatch(stream.topic, request.topic_name)
            else:
                total = stream.credit + max(request.num_requested, 0)
                stream.credit = min(total, self.settings.max_outstanding)
            stream.wake.set()

    async def _deliver_loop(self, context: Any, stream: Stream) -> None:
        loop = asyncio.get_running_loop()
        last_sent = loop.time()
        zero_since: float | None = None
        while True:
            stream.wake.clear()
            if stream.failure is not None:
                raise stream.failure
            await self.faults.wait_while_stalled()
            try:
                self.org.check_token(stream.token)  # a token revoked mid-stream ends it
            except AuthInvalid:
                raise wire.auth_error() from None
            now = loop.time()
            if stream.credit > 0:
                zero_since = None
                if await self._send_events(context, stream):
                    last_sent = loop.time()
                    continue
            elif zero_since is None:
                zero_since = now
            elif now - zero_since >= self.settings.credit_timeout:
                return  # no credit for too long: Salesforce closes the stream
            wait = last_sent + self.settings.keepalive - now
            if zero_since is not None:
                wait = min(wait, zero_since + self.settings.credit_timeout - now)
            if wait <= 0:
                await self._send_keepalive(context, stream)
                last_sent = loop.time()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stream.wake.wait(), wait)

    async def _send_events(self, context: Any, stream: Stream) -> bool:
        events = stream.log.events
        start = bisect.bisect_right(events, stream.cursor, key=lambda e: e.replay_id)
        n = min(stream.credit, self.settings.max_events_per_response, len(events) - start)
        if n <= 0:
            return False
        allocation = self._check_allocation(stream.kind)
        batch = events[start : start + n]
        data = [self._consumer_bytes(stream.base, stream.kind, e) for e in batch]
        stream.credit -= n
        stream.cursor = batch[-1].replay_id
        latest = _replay_bytes(stream.cursor)
        await context.write(wire.fetch_response(data, latest, stream.rpc, stream.credit))
        if allocation:
            self.org._count_delivery(allocation, n)
        stream.sent += n
        self.counts["delivered"] += n
        return True

    async def _send_keepalive(self, context: Any, stream: Stream) -> None:
        latest = _replay_bytes(max(stream.cursor, 0))
        await context.write(wire.fetch_response([], latest, stream.rpc, stream.credit))
        self.counts["keepalive"] += 1

    def state(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "streams": [
                {"topic": s.topic, "credit": s.credit, "sent": s.sent, "cursor": s.cursor}
                for streams in self.streams.values()
                for s in streams
            ],
            "counts": dict(self.counts),
            "faults": self.faults.state(),
        }
