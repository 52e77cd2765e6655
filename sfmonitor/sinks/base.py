"""What every sink is: ``open``, ``write`` a batch until it is acknowledged, ``close``.

A sink raises ``SinkError`` when writing may work later (the server is down, a timeout):
the forwarder closes it, waits and tries the same batch again. ``SinkRefusedError`` means
trying again would not help (a record the server refuses, a table of another shape): the
forwarder stops that sink and says why; its events stay in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .outbox import OutboxRecord


class SinkError(Exception):
    """Writing failed and may work later. The message never holds a secret."""


class SinkRefusedError(SinkError):
    """The sink refuses these events for good; retrying would not help."""


class SinkUnavailableError(SinkError):
    """The Python package a sink needs is not installed."""


@dataclass(frozen=True)
class SinkContext:
    """What a sink adds to each record beyond the store's row."""

    org_id: str  # the 18-character Salesforce org id
    transport: str = "cometd"  # cometd | pubsub: how the events were received


class Sink(Protocol):
    name: str  # for messages: the sink's URL, without secrets

    async def open(self) -> None:
        """Connect (and prepare: a table, a file); raises SinkError."""
        ...

    async def write(self, batch: Sequence[OutboxRecord]) -> None:
        """Write the batch in order; returns once the sink has acknowledged all of it."""
        ...

    async def close(self) -> None:
        """Release the connection; never raises."""
        ...
