"""The events table's payload field columns: their values for the rows the table holds,
and windows of rows in any order, a payload field's included (through the store).

A column's key is ``field:<path>`` with a filter field path (``Amount__c``,
``sobject.Name``). Values are read in the same worker call as the rows they belong to
(one ``json_extract`` per row), kept while their rows are, and shown as a filter on
that path compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sfmonitor.store import CaptureStore, CompiledQuery, EventRow
from sfmonitor.store.field_columns import cell_text, fetch_by_field, field_values

FIELD = "field:"


def field_path(key: str) -> str | None:
    """The field path of a column key (None: a fixed column)."""
    return key[len(FIELD) :] if key.startswith(FIELD) else None


def window(
    store: CaptureStore,
    compiled: CompiledQuery,
    sort_key: str,
    offset: int,
    limit: int,
    descending: bool,
) -> list[EventRow]:
    """Rows ``offset``.. of a query in the order of ``sort_key`` (blocking: worker thread).
    A field order reads every matching message (seconds over a million events)."""
    path = field_path(sort_key)
    if path is None:
        return compiled.fetch(offset, limit, sort_key, descending)
    return fetch_by_field(store, compiled.query, path, offset, limit, descending)


def first_window(
    store: CaptureStore, compiled: CompiledQuery, sort_key: str, limit: int, descending: bool
) -> tuple[int, list[EventRow]]:
    """The count and the first window (the count and a time window run in parallel)."""
    if field_path(sort_key) is None:
        return compiled.count_and_fetch(limit, sort_key, descending)
    return compiled.count(), window(store, compiled, sort_key, 0, limit, descending)


class FieldCells:
    """The field columns' values of the rows held (``id -> [value per path]``)."""

    def __init__(self, store: CaptureStore) -> None:
        self.store = store
        self.paths: list[str] = []
        self._values: dict[int, list[Any]] = {}

    def set_paths(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self._values.clear()

    def read(self, paths: Sequence[str], rows: Iterable[EventRow]) -> dict[int, list[Any]]:
        """The values of ``rows`` (blocking: the worker thread calls it)."""
        if not paths:
            return {}
        return field_values(self.store, [row.id for row in rows], paths)

    def keep(self, values: dict[int, list[Any]], paths: Sequence[str]) -> None:
        """Values read for ``paths``: kept if those are still the columns shown."""
        if list(paths) == self.paths:
            self._values.update(values)

    def forget(self, rows: Iterable[EventRow]) -> None:
        for row in rows:
            self._values.pop(row.id, None)

    def clear(self) -> None:
        self._values.clear()

    def text(self, event_id: int, number: int) -> str:
        values = self._values.get(event_id)
        return cell_text(values[number]) if values is not None else ""
