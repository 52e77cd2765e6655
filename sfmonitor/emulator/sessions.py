"""CometD sessions: the per-client queue of event bodies and the held long poll."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .channels import ChannelKind


@dataclass
class Subscription:
    channel: str  # as the client subscribed, query string included
    base: str  # without the query string
    kind: ChannelKind
    filters: dict[str, str] = field(default_factory=dict)  # PushTopic ?Field=value

    def matches(self, fields: dict[str, Any] | None) -> bool:
        if not self.filters:
            return True
        if fields is None:
            return False
        return all(str(fields.get(k)) == v for k, v in self.filters.items())


@dataclass
class Session:
    """One handshaken CometD client."""

    client_id: str
    username: str
    browser: str  # value of its BAYEUX_BROWSER cookie
    created: float
    last_reply: float  # monotonic time of the last connect reply (expiry is counted from it)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    queue: deque[bytes] = field(default_factory=deque)
    connected_once: bool = False
    held: asyncio.Future[None] | None = None  # the pending long poll, when one is held
    held_generation: int = 0
    delivered: int = 0
    largest_reply: int = 0  # most events in one connect reply
    expired: bool = False

    def wake(self) -> None:
        """Release a held long poll (events arrived, or the session ends)."""
        if self.held is not None and not self.held.done():
            self.held.set_result(None)

    def take(self, limit: int) -> list[bytes]:
        """Pop up to ``limit`` queued event bodies (0 = all)."""
        q = self.queue
        n = len(q) if limit <= 0 else min(limit, len(q))
        if n == len(q):
            out = list(q)
            q.clear()
            return out
        return [q.popleft() for _ in range(n)]

    def subscribed_kinds(self) -> set[ChannelKind]:
        return {s.kind for s in self.subscriptions.values()}
