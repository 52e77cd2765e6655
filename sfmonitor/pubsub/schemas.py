"""Avro schemas by ``schema_id``: fetched once with ``GetSchema``, kept parsed in memory, and
handed to an optional ``SchemaStore`` so that a capture store can keep them too (exports
then decode offline). Payloads are schemaless Avro binary (reference pubsub.md §1.5)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import fastavro
import orjson

from .bitmaps import field_names


class SchemaStore(Protocol):
    """Somewhere schemas outlive the process (the capture store implements it later)."""

    def load_schema(self, schema_id: str) -> str | None: ...

    def save_schema(self, schema_id: str, schema_json: str) -> None: ...


@dataclass
class MemorySchemaStore:
    """A ``SchemaStore`` in a dict (tests, and the default)."""

    schemas: dict[str, str] = field(default_factory=dict)

    def load_schema(self, schema_id: str) -> str | None:
        return self.schemas.get(schema_id)

    def save_schema(self, schema_id: str, schema_json: str) -> None:
        self.schemas[schema_id] = schema_json


@dataclass(frozen=True)
class Schema:
    """One parsed schema and what decoding needs from it."""

    schema_id: str
    json: str
    fields: list[dict[str, Any]]  # top-level fields, as written (bitmap positions)
    parsed: Any  # fastavro's parsed form
    datetime_fields: frozenset[str]  # epoch-ms longs that CometD shows as ISO text
    change_event: bool  # has a ChangeEventHeader
    # decoded bitmap lists: the same few combinations repeat event after event
    _names: dict[tuple[str, ...], list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, schema_id: str, text: str) -> Schema:
        raw = orjson.loads(text)
        if not isinstance(raw, dict) or raw.get("type") != "record":
            raise ValueError(f"schema {schema_id} is not an Avro record")
        fields = _resolve_references(raw)
        datetimes = frozenset(
            str(f["name"]) for f in fields if str(f.get("doc", "")).endswith(":DateTime")
        )
        names = {str(f.get("name")) for f in fields}
        return cls(
            schema_id,
            text,
            fields,
            fastavro.parse_schema(raw),
            datetimes,
            "ChangeEventHeader" in names,
        )

    def decode(self, payload: bytes) -> dict[str, Any]:
        """The record as a dict (Avro enums as their symbol, unions as the plain value)."""
        record = fastavro.schemaless_reader(io.BytesIO(payload), self.parsed, None)
        if not isinstance(record, dict):
            raise ValueError("the payload is not a record")
        return record

    def field_names(self, bitmaps: list[str]) -> list[str]:
        """``bitmaps.field_names`` over this schema, remembered per distinct list."""
        key = tuple(bitmaps)
        names = self._names.get(key)
        if names is None:
            names = field_names(self.fields, bitmaps)
            if len(self._names) < 10_000:
                self._names[key] = names
        return list(names)

    def encode(self, record: dict[str, Any]) -> bytes:
        """Schemaless Avro binary of ``record`` (for Publish)."""
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self.parsed, record)
        return out.getvalue()


def _named_types(node: Any, namespace: str, found: dict[str, dict[str, Any]]) -> None:
    if isinstance(node, list):
        for item in node:
            _named_types(item, namespace, found)
    elif isinstance(node, dict):
        space = str(node.get("namespace") or namespace)
        if node.get("type") in ("record", "enum", "fixed") and "name" in node:
            name = str(node["name"])
            full = name if "." in name else f"{space}.{name}" if space else name
            found.setdefault(full, node)
            found.setdefault(name.rpartition(".")[2], node)
        for key in ("type", "fields", "items", "values"):
            if key in node:
                _named_types(node[key], space, found)


def _resolve_references(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The top-level fields with named-type references replaced by their definitions (a
    second ``Address`` field refers to the first one's record by name), so that bitmap
    decoding finds every compound field's children."""
    named: dict[str, dict[str, Any]] = {}
    _named_types(raw, str(raw.get("namespace") or ""), named)
    out = []
    for f in raw.get("fields") or []:
        typ = f.get("type")
        members = typ if isinstance(typ, list) else [typ]
        resolved = [named.get(m, m) if isinstance(m, str) else m for m in members]
        out.append({**f, "type": resolved if isinstance(typ, list) else resolved[0]})
    return out


Fetch = Callable[[str], Awaitable[str]]


class SchemaCache:
    """Parsed schemas by id: memory, then the ``SchemaStore``, then ``fetch`` (GetSchema).

    Concurrent misses for one id share a single fetch.
    """

    def __init__(self, fetch: Fetch, store: SchemaStore | None = None) -> None:
        self._fetch = fetch
        self.store: SchemaStore = store if store is not None else MemorySchemaStore()
        self._parsed: dict[str, Schema] = {}
        self._inflight: dict[str, asyncio.Future[Schema]] = {}
        self.fetches = 0

    def cached(self, schema_id: str) -> Schema | None:
        return self._parsed.get(schema_id)

    async def get(self, schema_id: str) -> Schema:
        schema = self._parsed.get(schema_id)
        if schema is not None:
            return schema
        pending = self._inflight.get(schema_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Schema] = asyncio.get_running_loop().create_future()
        self._inflight[schema_id] = future
        try:
            schema = await self._load(schema_id)
            future.set_result(schema)
            return schema
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: others awaiting it get it, nobody else warns
            raise
        finally:
            del self._inflight[schema_id]

    async def _load(self, schema_id: str) -> Schema:
        text = self.store.load_schema(schema_id)
        if text is None:
            text = await self._fetch(schema_id)
            self.fetches += 1
            self.store.save_schema(schema_id, text)
        schema = Schema.from_json(schema_id, text)
        self._parsed[schema_id] = schema
        return schema
