"""A query compiled once: its filter parsed (texts rarest first) with what its plan needs
(``Prepared``), and the count and windows of it (``CompiledQuery``) without parsing or
planning again. ``EventQueries.compile`` makes one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .filters import Filter
from .models import EventQuery, EventRow

if TYPE_CHECKING:
    from .queries import EventQueries


@dataclass(frozen=True)
class Prepared:
    """A query's filter, parsed, and what its plan needs (``EventQueries._prepare``)."""

    flt: Filter | None
    newest: int = 0  # the newest event id, when the filter has texts
    indexed: int = 0  # how far the search index has got
    samples: list[str] = field(default_factory=list)  # the planner's sample


class CompiledQuery:
    """A query parsed and planned once (``EventQueries.compile``): its count and windows
    of it, in any order, without parsing or planning again."""

    def __init__(self, store: EventQueries, query: EventQuery, prepared: Prepared) -> None:
        self.store = store
        self.query = query
        self._prepared = prepared

    def count(self) -> int:
        return self.store._count(self.query, self._prepared, parallel=False)

    def fetch(
        self, offset: int = 0, limit: int = 100, sort: str = "id", descending: bool = False
    ) -> list[EventRow]:
        return self.store._fetch(self.query, self._prepared, offset, limit, sort, descending)

    def count_and_fetch(
        self, limit: int = 100, sort: str = "id", descending: bool = False
    ) -> tuple[int, list[EventRow]]:
        """How many events match, and the first window, in parallel on several
        connections (a text filter's count in two halves of the id range)."""
        return self.store._count_and_fetch(self.query, self._prepared, limit, sort, descending)
