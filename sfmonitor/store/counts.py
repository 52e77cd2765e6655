"""Remembered counts: counting a filter again only counts the events stored since.

Events are only appended, and a new event's id is above every stored one, so the number
of events matching a query up to id ``upto`` stays right until an event is deleted (SQLite
may then hand ids out again). The database counts deletions (``store_meta.deletions``,
bumped by a trigger, so deletes by another process count too); a remembered count is used
only while that number is unchanged. This turns the UI's recounts (a new sort order, live
updates in a sorted view, the same filter typed again) from a scan of every event into a
count of the new ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from .models import EventQuery

MAX_REMEMBERED = 64


@dataclass(frozen=True)
class Counted:
    upto: int  # every matching event with an id up to this one is counted
    count: int
    deletions: int  # store_meta.deletions when it was counted


def key_of(query: EventQuery) -> EventQuery | None:
    """The cache key of a count from the first event on (None: not remembered)."""
    if query.after_id is not None:
        return None  # counts of new rows only (live updates) are cheap already
    return replace(query, upto_id=None)


class CountCache:
    """The most recently used counts; thread-safe."""

    def __init__(self, size: int = MAX_REMEMBERED) -> None:
        self._size = size
        self._counts: OrderedDict[EventQuery, Counted] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: EventQuery, upto: int | None) -> Counted | None:
        """A remembered count that ``upto`` (None: the newest event) extends."""
        with self._lock:
            counted = self._counts.get(key)
            if counted is None or (upto is not None and counted.upto > upto):
                return None
            self._counts.move_to_end(key)
            return counted

    def put(self, key: EventQuery, counted: Counted) -> None:
        with self._lock:
            old = self._counts.get(key)
            if old is not None and old.deletions == counted.deletions and old.upto > counted.upto:
                return  # a concurrent count got further
            self._counts[key] = counted
            self._counts.move_to_end(key)
            while len(self._counts) > self._size:
                self._counts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
