"""The rows an events table holds: a few pages of a view, the most recently used kept.

Page ``p`` holds rows ``p * PAGE`` .. of the view. A page may be short at its end (rows
appended as they arrive); rows are only ever read from a page that holds them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from sfmonitor.store import EventRow

PAGE = 200
MAX_PAGES = 40


class Pages:
    """At most ``MAX_PAGES`` pages; ``on_evict`` hears of the rows of a page let go."""

    def __init__(self, on_evict: Callable[[list[EventRow]], None] | None = None) -> None:
        self._pages: OrderedDict[int, list[EventRow]] = OrderedDict()
        self.on_evict = on_evict

    def __len__(self) -> int:
        return len(self._pages)

    def row(self, number: int) -> EventRow | None:
        """Row ``number`` if its page holds it (the page becomes the most recent)."""
        page, offset = divmod(number, PAGE)
        rows = self._pages.get(page)
        if rows is not None and offset < len(rows):
            self._pages.move_to_end(page)
            return rows[offset]
        return None

    def store(self, page: int, rows: list[EventRow]) -> None:
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            evicted = self._pages.popitem(last=False)[1]
            if self.on_evict is not None:
                self.on_evict(evicted)

    def clear(self) -> None:
        self._pages.clear()

    def recent(self, n: int) -> list[int]:
        """The ``n`` pages used last."""
        return list(self._pages)[-n:]

    def row_of(self, event_id: int) -> int | None:
        """The row number of an event among the rows held (None: not held)."""
        for page, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.id == event_id:
                    return page * PAGE + offset
        return None

    def place(self, first: int, rows: list[EventRow]) -> None:
        """Put ``rows`` (rows ``first``.. of the view) into the pages they belong to; a
        page whose head is not known is left to load when shown."""
        for number, row in enumerate(rows, first):
            page, offset = divmod(number, PAGE)
            current = self._pages.get(page)
            if current is None and offset == 0:
                current = []
                self.store(page, current)
            if current is None or offset > len(current):
                continue
            if offset == len(current):
                current.append(row)
            else:
                current[offset] = row
