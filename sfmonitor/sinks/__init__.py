"""Sinks: forward captured events from the store (the outbox) to Kafka, PostgreSQL or an
NDJSON file, at least once and in store order.

``parse_sink_url`` and ``split_secret`` turn a ``--sink`` URL into a spec and a secret for
the keyring; ``make_sink`` builds the sink; a ``Forwarder`` per sink reads the outbox after
the sink's cursor and moves the cursor when the sink acknowledged. Kafka and PostgreSQL need
the ``sinks`` extra (``pip install 'sfmonitor[sinks]'``: aiokafka, asyncpg).
"""

from __future__ import annotations

import importlib.util

from sfmonitor.logs import register_secret

from .base import Sink, SinkContext, SinkError, SinkRefusedError, SinkUnavailableError
from .forwarder import Forwarder, Lag, SinkState
from .ndjson import NdjsonSink
from .outbox import (
    Backlog,
    CursorStore,
    OutboxReader,
    OutboxRecord,
    SqliteCursorStore,
    SqliteOutbox,
    retention_floor,
    sink_cursors_ddl,
)
from .urls import (
    KafkaSpec,
    NdjsonSpec,
    PostgresSpec,
    SinkSpec,
    SinkUrlError,
    parse_sink_url,
    redact_url,
    split_secret,
)

__all__ = [
    "Backlog",
    "CursorStore",
    "Forwarder",
    "KafkaSpec",
    "Lag",
    "NdjsonSink",
    "NdjsonSpec",
    "OutboxReader",
    "OutboxRecord",
    "PostgresSpec",
    "Sink",
    "SinkContext",
    "SinkError",
    "SinkRefusedError",
    "SinkSpec",
    "SinkState",
    "SinkUnavailableError",
    "SinkUrlError",
    "SqliteCursorStore",
    "SqliteOutbox",
    "make_sink",
    "missing_package",
    "parse_sink_url",
    "redact_url",
    "retention_floor",
    "sink_cursors_ddl",
    "split_secret",
]


def make_sink(spec: SinkSpec, context: SinkContext, password: str | None = None) -> Sink:
    """The sink for ``spec`` (not connected yet). ``password`` comes from the keyring; it is
    masked in every log record from now on."""
    if password:
        register_secret(password)
    if isinstance(spec, NdjsonSpec):
        return NdjsonSink(spec)
    try:
        if isinstance(spec, KafkaSpec):
            from .kafka import KafkaSink

            return KafkaSink(spec, context, password)
        from .postgres import PostgresSink

        return PostgresSink(spec, context, password)
    except ImportError as exc:
        raise SinkUnavailableError(
            f"{spec.url}: {exc.name or 'a package'} is not installed "
            "(pip install 'sfmonitor[sinks]')"
        ) from None


def missing_package(spec: SinkSpec) -> str | None:
    """The Python package a sink of ``spec`` needs and that is not installed (None: all
    there), to refuse a ``--sink`` at once rather than once connected."""
    needs = {KafkaSpec: "aiokafka", PostgresSpec: "asyncpg"}.get(type(spec))
    if needs is None or importlib.util.find_spec(needs) is not None:
        return None
    return needs
