"""The Avro schemas of Pub/Sub events, by schema id, kept in the capture file: a stored
event's Avro bytes (``events.avro``) can be decoded offline, long after the org that sent
them changed or went away. ``CaptureStore`` inherits these (a Pub/Sub ``SchemaStore``)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .models import now_ms


class SchemaRecords:
    """Schema id -> schema JSON, written once (a schema id names one schema for good)."""

    if TYPE_CHECKING:

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

    def load_schema(self, schema_id: str) -> str | None:
        rows = self._read("SELECT schema_json FROM avro_schemas WHERE schema_id = ?", (schema_id,))
        return str(rows[0][0]) if rows else None

    def save_schema(self, schema_id: str, schema_json: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO avro_schemas (schema_id, schema_json, saved_at) "
                "VALUES (?, ?, ?)",
                (schema_id, schema_json, now_ms()),
            )

    def avro_schemas(self) -> dict[str, str]:
        """Every stored schema (a capture uses a few: one per topic and version)."""
        rows = self._read("SELECT schema_id, schema_json FROM avro_schemas")
        return {str(r[0]): str(r[1]) for r in rows}
