"""The Kafka sink (aiokafka): one record per event, acknowledged with ``acks=all``.

Record: topic from the spec's template (``{org}``, ``{channel}`` as ``event.Order__e``);
key ``<org id>|<channel>`` so that a channel's events share a partition and keep their
order, or with ``key=record`` the CDC record id (a record's changes in order; a channel's
order then spans partitions); value the export record with ``orgId`` first; headers
``sf-replay-id``, ``sf-event-uuid``, ``sf-transport``, ``sf-kind``, ``sf-org-id``. The
record timestamp is the time it is produced (the event's own time is in the value), so
that a topic's time-based retention does not drop replayed old events at once.

The idempotent producer stays off: the forwarder already delivers at least once, and the
Tansu broker the tests use refuses it (``InitProducerId`` answers UnknownError). aiokafka
keeps one request in flight per partition, so retries do not reorder a partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors

from .base import SinkContext, SinkError, SinkRefusedError
from .outbox import OutboxRecord
from .urls import KafkaSpec

CLOSE_TIMEOUT = 10.0
# the broker refuses these records or this topic as they are: retrying cannot help
_REFUSED = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.InvalidTopicError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.UnsupportedCodecError,
    kafka_errors.CorruptRecordException,
)


def _record_id(raw: str) -> str | None:
    """The first record id of a CDC event's ChangeEventHeader."""
    try:
        message = orjson.loads(raw)
        ids = message["data"]["payload"]["ChangeEventHeader"]["recordIds"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return ids[0] if isinstance(ids, list) and ids and isinstance(ids[0], str) else None


class KafkaSink:
    """Produces each batch and waits for every record's acknowledgement."""

    def __init__(self, spec: KafkaSpec, context: SinkContext, password: str | None) -> None:
        self.spec = spec
        self.name = spec.url
        self.context = context
        self._password = password
        self._producer: Any = None
        self._topics: dict[str, str] = {}
        self._org_prefix = b'{"orgId":' + orjson.dumps(context.org_id) + b","

    def __repr__(self) -> str:
        return f"KafkaSink({self.name!r})"

    def _options(self) -> dict[str, Any]:
        spec = self.spec
        options: dict[str, Any] = {
            "bootstrap_servers": list(spec.servers),
            "client_id": "sfmonitor",
            "acks": "all" if spec.acks == "all" else 1,
            "enable_idempotence": False,
            "compression_type": None if spec.compression == "none" else spec.compression,
            "linger_ms": spec.linger_ms,
            "max_request_size": spec.max_request_size,
            "request_timeout_ms": int(spec.timeout_s * 1000),
            "security_protocol": spec.security,
        }
        if spec.security.endswith("SSL"):
            options["ssl_context"] = ssl.create_default_context(cafile=spec.cafile)
        if spec.needs_secret:
            if not self._password:
                raise SinkRefusedError(f"{self.name}: no password for {spec.username!r}")
            options.update(
                sasl_mechanism=spec.sasl_mechanism,
                sasl_plain_username=spec.username,
                sasl_plain_password=self._password,
            )
        return options

    async def open(self) -> None:
        try:
            producer = AIOKafkaProducer(**self._options())
        except (RuntimeError, ValueError, OSError) as exc:  # e.g. no lz4 library
            raise SinkRefusedError(f"{self.name}: {exc}") from None
        try:
            await producer.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise SinkError(f"{self.name}: cannot connect: {_describe(exc)}") from None
        self._producer = producer

    def _topic(self, channel: str) -> str:
        topic = self._topics.get(channel)
        if topic is None:
            topic = self._topics[channel] = self.spec.topic_for(self.context.org_id, channel)
        return topic

    def _key(self, record: OutboxRecord) -> bytes:
        if self.spec.key == "record" and record.kind == "change_event":
            record_id = _record_id(record.raw)
            if record_id is not None:
                return record_id.encode()
        return f"{self.context.org_id}|{record.channel}".encode()

    def _headers(self, record: OutboxRecord) -> list[tuple[str, bytes]]:
        headers = [
            ("sf-org-id", self.context.org_id.encode()),
            ("sf-transport", self.context.transport.encode()),
            ("sf-kind", record.kind.encode()),
        ]
        if record.replay_id is not None:
            headers.append(("sf-replay-id", str(record.replay_id).encode()))
        if record.event_uuid is not None:
            headers.append(("sf-event-uuid", record.event_uuid.encode("utf-8", "replace")))
        return headers

    async def write(self, batch: Sequence[OutboxRecord]) -> None:
        producer = self._producer
        if producer is None:
            raise SinkError(f"{self.name}: not connected")
        futures: list[asyncio.Future[Any]] = []
        try:
            for record in batch:
                value = self._org_prefix + record.record[1:].encode("utf-8", "replace")
                futures.append(
                    await producer.send(
                        self._topic(record.channel),
                        value,
                        key=self._key(record),
                        headers=self._headers(record),
                    )
                )
            results = await asyncio.gather(*futures, return_exceptions=True)
        except Exception as exc:
            for future in futures:
                future.cancel()
            raise self._error(exc) from None
        for result in results:
            if isinstance(result, BaseException):
                raise self._error(result) from None

    def _error(self, exc: BaseException) -> SinkError:
        text = f"{self.name}: {_describe(exc)}"
        if isinstance(exc, kafka_errors.KafkaTimeoutError):
            text += " (is the broker up? a broker without auto.create.topics.enable needs "
            text += "the topics created first)"
        return SinkRefusedError(text) if isinstance(exc, _REFUSED) else SinkError(text)

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # stop() flushes what is pending: bounded, for a broker that is gone
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), CLOSE_TIMEOUT)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"
