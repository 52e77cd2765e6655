"""``AvroCatalog``: the org's event schemas by id, and retained events (their CometD
messages) encoded into Avro payloads; published Avro payloads decoded back into fields.

One catalog belongs to the Pub/Sub server of an emulator; the org itself stays JSON.
"""

from __future__ import annotations

import io
from typing import Any

import fastavro
import orjson

from .avro_schemas import (
    ENTITY_FIELDS,
    EVENT_FIELDS,
    Layout,
    _children,
    _convert,
    _fits,
    _kind_of_value,
    bitmap,
    schema_id_of,
)
from .channels import ChannelKind

GENERIC_ENTITY = (("Name", "string"), ("OwnerId", "string"), ("CreatedDate", "datetime"))
HEADER_INTS = {"sequenceNumber": 0, "commitTimestamp": 0, "commitNumber": 0}


def change_event_name(entity: str) -> str:
    """``Account`` -> AccountChangeEvent, ``Foo__c`` -> Foo__ChangeEvent."""
    return entity[:-3] + "__ChangeEvent" if entity.endswith("__c") else entity + "ChangeEvent"


class AvroCatalog:
    def __init__(self) -> None:
        self.layouts: dict[str, Layout] = {}
        self.schemas: dict[str, tuple[str, Any]] = {}  # id -> (JSON text, parsed)

    # --- layouts and versions -------------------------------------------------------------

    def _layout(self, name: str, change_event: bool, base: tuple[tuple[str, str], ...]) -> Layout:
        layout = self.layouts.get(name)
        if layout is None:
            layout = Layout(name, change_event, list(base))
            self.layouts[name] = layout
            self._new_version(layout)
        return layout

    def _new_version(self, layout: Layout) -> None:
        layout.index_flat()
        avro = layout.avro()
        schema_id = schema_id_of(avro)
        full = {**avro, "uuid": schema_id}
        if schema_id not in self.schemas:
            self.schemas[schema_id] = (orjson.dumps(full).decode(), fastavro.parse_schema(full))
        layout.schema_id = schema_id

    def _ensure(self, layout: Layout, values: dict[str, Any]) -> None:
        """Add fields the layout lacks, widen types a value does not fit (a new version)."""
        kinds = dict(layout.fields)
        changed = False
        for name, value in values.items():
            kind = kinds.get(name)
            if kind is None:
                layout.fields.append((name, _kind_of_value(value)))
                changed = True
            elif not _fits(kind, value):
                layout.fields = [(n, "string" if n == name else k) for n, k in layout.fields]
                changed = True
        if changed:
            self._new_version(layout)

    def layout_for(self, kind: ChannelKind, name: str) -> Layout:
        """The layout of a topic's events (``name`` is the part after /event/ or /data/)."""
        if kind is ChannelKind.CHANGE_EVENT:
            entity = _entity_of(name)
            return self._layout(
                change_event_name(entity), True, ENTITY_FIELDS.get(entity, GENERIC_ENTITY)
            )
        if kind is ChannelKind.MONITORING:
            return self._layout(name, False, (("EventDate", "datetime"), ("EventUuid", "string")))
        base = (("CreatedDate", "datetime"), ("CreatedById", "string"))
        return self._layout(name, False, base + EVENT_FIELDS.get(name, ()))

    def schema_json(self, schema_id: str) -> str | None:
        entry = self.schemas.get(schema_id)
        return entry[0] if entry else None

    # --- encoding -------------------------------------------------------------------------

    def encode(self, kind: ChannelKind, channel: str, message: dict[str, Any]) -> tuple[str, bytes]:
        """(schema id, Avro payload) of one retained event's CometD message."""
        data = message.get("data") or {}
        payload = dict(data.get("payload") or {})
        if kind is ChannelKind.CHANGE_EVENT:
            header = payload.pop("ChangeEventHeader", {}) or {}
            entity = str(header.get("entityName") or "Account")
            layout = self.layout_for(kind, change_event_name(entity))
            record = self._change_record(layout, header, payload)
        else:
            layout = self.layout_for(kind, channel.rpartition("/")[2])
            self._ensure(layout, payload)
            record = {name: _convert(k, payload.get(name)) for name, k in layout.fields}
        parsed = self.schemas[layout.schema_id][1]
        out = io.BytesIO()
        fastavro.schemaless_writer(out, parsed, record)
        return layout.schema_id, out.getvalue()

    def _change_record(
        self, layout: Layout, header: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any]:
        top: dict[str, Any] = {}
        compounds: dict[str, dict[str, Any]] = {}
        for name, value in payload.items():
            if name in layout.flat:
                parent, child = layout.flat[name]
                compounds.setdefault(parent, {})[child] = value
            else:
                top[name] = value
        self._ensure(layout, top)
        record: dict[str, Any] = {"ChangeEventHeader": self._header(layout, header)}
        for name, kind in layout.fields:
            value = top.get(name)
            if kind in ("address", "name"):
                parts = {**(value if isinstance(value, dict) else {}), **compounds.get(name, {})}
                value = (
                    {c: _convert(k, parts.get(c)) for c, k in _children(kind)} if parts else None
                )
            else:
                value = _convert(kind, value)
            record[name] = value
        return record

    def _header(self, layout: Layout, header: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entityName": str(header.get("entityName", "")),
            "recordIds": [str(r) for r in header.get("recordIds") or []],
            "changeType": str(header.get("changeType", "UPDATE")),
            "changeOrigin": str(header.get("changeOrigin") or ""),
            "transactionKey": str(header.get("transactionKey") or ""),
            "commitUser": str(header.get("commitUser") or ""),
        }
        for key, default in HEADER_INTS.items():
            value = header.get(key, default)
            out[key] = int(value) if isinstance(value, int | float) else default
        for key in ("nulledFields", "diffFields", "changedFields"):
            out[key] = self.bitmaps(layout, [str(n) for n in header.get(key) or []])
        return out

    def bitmaps(self, layout: Layout, names: list[str]) -> list[str]:
        """Field names as Salesforce's bitmap list (top-level first, then compounds)."""
        positions = layout.positions()
        kinds = dict(layout.fields)
        top: list[int] = []
        children: dict[int, list[int]] = {}
        for name in names:
            parent, child = name, ""
            if name in layout.flat:
                parent, child = layout.flat[name]
            elif "." in name:
                parent, _, child = name.partition(".")
            position = positions.get(parent)
            if position is None:
                continue
            if not child:
                top.append(position)
                continue
            names_of = [c for c, _ in _children(kinds[parent])]
            if child in names_of:
                children.setdefault(position, []).append(names_of.index(child))
        if not top and not children:
            return []
        return [bitmap(top)] + [f"{p}-{bitmap(children[p])}" for p in sorted(children)]

    # --- decoding (Publish) ----------------------------------------------------------------

    def decode(self, schema_id: str, payload: bytes) -> dict[str, Any]:
        """A published event's fields; KeyError for an unknown schema id, ValueError for a
        payload the schema cannot read."""
        parsed = self.schemas[schema_id][1]
        try:
            record = fastavro.schemaless_reader(io.BytesIO(payload), parsed, None)
        except Exception as exc:
            raise ValueError(f"the payload does not match schema {schema_id}: {exc}") from None
        if not isinstance(record, dict):
            raise ValueError("the payload is not a record")
        return record


def _entity_of(name: str) -> str:
    if name.endswith("__ChangeEvent"):
        return name[: -len("__ChangeEvent")] + "__c"
    if name.endswith("ChangeEvent"):
        return name[: -len("ChangeEvent")]
    return "Account"  # /data/ChangeEvents: any entity; Account's layout stands for it
