"""Decoding of the ``changedFields`` / ``nulledFields`` / ``diffFields`` bitmaps of Change
Data Capture events over the Pub/Sub API (guide: "Event Deserialization Considerations").

A bitmap is a list of strings. The first, ``0x…``, is a hex bitmap over the positions of the
schema's top-level fields: bit i (least significant first) set means field i. Each further
element ``P-0x…`` is a bitmap over the child fields of the compound field at top-level
position P (``BillingAddress`` -> ``BillingAddress.City``). Either case of hex is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _bits(hex_text: str) -> list[int]:
    value = int(hex_text, 16)
    out = []
    i = 0
    while value:
        if value & 1:
            out.append(i)
        value >>= 1
        i += 1
    return out


def _record_fields(avro_type: Any) -> list[dict[str, Any]]:
    """The fields of a record type, or of the record inside a nullable union."""
    candidates = avro_type if isinstance(avro_type, list) else [avro_type]
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("type") == "record":
            fields = candidate.get("fields")
            return fields if isinstance(fields, list) else []
    return []


def is_bitmap_list(values: Sequence[Any]) -> bool:
    """True when ``values`` look like bitmaps rather than field names."""
    return bool(values) and all(
        isinstance(v, str) and (v.startswith("0x") or "-0x" in v) for v in values
    )


def field_names(fields: Sequence[dict[str, Any]], bitmaps: Sequence[str]) -> list[str]:
    """The field names a bitmap list stands for, over a schema's top-level ``fields``.

    Names already decoded (a CometD-style list) are returned unchanged. A position beyond
    the schema raises ValueError: the schema does not match the event.
    """
    if not is_bitmap_list(bitmaps):
        return [str(b) for b in bitmaps]
    names: list[str] = []
    for element in bitmaps:
        parent, sep, hex_text = element.partition("-")
        if not sep:
            names.extend(_name_at(fields, i) for i in _bits(parent))
            continue
        compound = fields[int(parent)] if 0 <= int(parent) < len(fields) else None
        if compound is None:
            raise ValueError(f"bitmap {element!r} names a field beyond the schema")
        children = _record_fields(compound.get("type"))
        names.extend(f"{compound['name']}.{_name_at(children, i)}" for i in _bits(hex_text))
    return names


def _name_at(fields: Sequence[dict[str, Any]], position: int) -> str:
    if position >= len(fields):
        raise ValueError(f"bit {position} is beyond the schema's {len(fields)} fields")
    return str(fields[position]["name"])
