"""Import of an export file (or any JSON array or NDJSON of such records) as a read-only
capture, in bounded memory whatever the file holds.

Our own layout (an array with one record per line, or NDJSON) is read line by line.
Anything else that starts as a JSON array (pretty-printed, or all on one line) is cut
into its elements by a small scanner that keeps only the element being read. Either way
no record may exceed ``MAX_RECORD`` bytes (no event from a server comes near it), a NUL
byte (a sparse or binary file) stops the import at once, and a bad file imports nothing:
the rows go in through one transaction that a failure rolls back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from sfmonitor.streaming.events import EventKind, change_of, summarize
from sfmonitor.timefmt import parse_time

from .captures import CaptureStore
from .errors import ImportFormatError
from .models import Environment, Profile
from .records import GAP_KIND, PubSubWire, gap_summary, raw_json, text_for_sqlite

MAX_RECORD = 16 << 20  # bytes of one record
PIECE = 1 << 20  # bytes read at a time
_KINDS = {k.value for k in EventKind} | {GAP_KIND}
Progress = Callable[[int, int], None]  # (done, total)
Located = tuple[Any, str, int]  # a record, where it is (for errors), bytes read so far


def _fail(where: str, message: str) -> ImportFormatError:
    return ImportFormatError(f"{where}: {message}")


def _row_of(record: Any, where: str) -> tuple[Any, ...]:
    """Validate one record; the ``events`` row for it (without the profile id)."""
    if not isinstance(record, dict):
        raise _fail(where, "a record must be a JSON object")
    keys = ("channel", "replayId", "kind", "createdDate", "receivedAt", "event")
    missing = [k for k in keys if k not in record]
    if missing:
        raise _fail(where, f"missing {', '.join(missing)}")
    channel, replay_id, kind = record["channel"], record["replayId"], record["kind"]
    event = record["event"]
    if not isinstance(channel, str) or not channel:
        raise _fail(where, "channel must be a non-empty string")
    if replay_id is not None and (type(replay_id) is not int or not -(2**63) <= replay_id < 2**63):
        raise _fail(where, "replayId must be a 64-bit integer or null")
    if kind not in _KINDS:
        raise _fail(where, f"kind must be one of {', '.join(sorted(_KINDS))}")
    times = []
    for key in ("createdDate", "receivedAt"):
        value = record[key]
        parsed = parse_time(value) if isinstance(value, str) else None
        if parsed is None:
            raise _fail(where, f"{key} must be an ISO-8601 time")
        times.append(int(parsed.timestamp() * 1000))
    if not isinstance(event, dict):
        raise _fail(where, "event must be a JSON object")
    channel = text_for_sqlite(channel) or ""
    data = event.get("data")
    inner = data.get("event") if isinstance(data, dict) else None
    uuid = inner.get("EventUuid") if isinstance(inner, dict) else None
    if kind == GAP_KIND:
        summary = gap_summary(event.get("gap"))
        return (channel, kind, None, None, *times, "GAP", summary, raw_json(event), *_NO_WIRE)
    wire = _pubsub_of(record.get("pubsub", None), replay_id, where)
    event_kind = EventKind(kind)
    return (
        channel,
        kind,
        replay_id,
        text_for_sqlite(uuid) if isinstance(uuid, str) else None,
        times[0],
        times[1],
        text_for_sqlite(change_of(event_kind, channel, data)),
        text_for_sqlite(summarize(event_kind, channel, data)),
        raw_json(event),
        *wire,
    )


_NO_WIRE = (None, None, None)
_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def _hex(value: Any, what: str, where: str) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise _fail(where, f"pubsub.{what} must be lower-case hex")
    return bytes.fromhex(value)


def _pubsub_of(part: Any, replay_id: Any, where: str) -> tuple[Any, Any, Any]:
    """A Pub/Sub event's replay id bytes, schema id and Avro bytes (export's ``pubsub``)."""
    if part is None:
        return _NO_WIRE
    if not isinstance(part, dict):
        raise _fail(where, "pubsub must be a JSON object")
    raw = _hex(part.get("replayId"), "replayId", where)
    if not raw:
        raise _fail(where, "pubsub.replayId cannot be empty")
    shown = PubSubWire(raw, "", b"").replay_value
    if replay_id is not None and replay_id != shown:
        raise _fail(where, "replayId is not the value of pubsub.replayId")
    schema_id = part.get("schemaId")
    if schema_id is not None and not isinstance(schema_id, str):
        raise _fail(where, "pubsub.schemaId must be a string or null")
    avro = part.get("avro")
    payload = None if avro is None else _hex(avro, "avro", where)
    return raw, text_for_sqlite(schema_id), payload


_LONG_NUMBER = re.compile(rb"[0-9]{19}")  # may be an integer beyond 64 bits


def _parse(text: bytes | bytearray, where: str) -> Any:
    """A record's JSON. orjson first; the standard parser for what orjson refuses (an
    escaped lone surrogate) or reads inexactly (an integer beyond 64 bits: a float)."""
    if not _LONG_NUMBER.search(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"{where}, column {exc.colno}", exc.msg) from None
    except (ValueError, RecursionError) as exc:
        raise _fail(where, str(exc) or "nested too deep") from None


def _no_nul(piece: bytes, offset: int) -> None:
    nul = piece.find(b"\0")
    if nul >= 0:
        raise _fail(f"byte {offset + nul:,}", "a NUL byte: this is not a JSON text file")


def _line(handle: IO[bytes], number: int, offset: int, limit: int = MAX_RECORD) -> bytes:
    """One line (b"" at the end), read a piece at a time: never more than ``limit``
    bytes held, and a NUL byte refused as soon as it is read."""
    parts: list[bytes] = []
    size = 0
    while True:
        piece = handle.readline(min(PIECE, limit + 1 - size))
        _no_nul(piece, offset + size)
        parts.append(piece)
        size += len(piece)
        if not piece or piece.endswith(b"\n"):
            return b"".join(parts)
        if size > limit:
            raise _fail(f"line {number}", f"longer than {limit >> 20} MiB: not an export record")


class _Relayout(Exception):
    """Valid-looking JSON, but not one record per line: cut it into elements instead."""


def _read_lines(handle: IO[bytes], ndjson: bool) -> Iterator[Located]:
    """Records with their location, from our one-record-per-line layout."""
    number = offset = 0
    if not ndjson:  # our arrays open with "[" alone on the first line
        first = handle.readline(65)
        if first.strip() not in (b"[", b"[]"):
            raise _Relayout
        number, offset = 1, len(first)
    closed = ndjson or first.strip() == b"[]"
    first_record = True
    while raw := _line(handle, number + 1, offset):
        number += 1
        offset += len(raw)
        line = raw.strip()
        if not line:
            continue
        if closed and not ndjson:
            raise _fail(f"line {number}", "text after the end of the JSON array")
        if not ndjson:
            if line == b"]":
                closed = True
                continue
            line = line.removesuffix(b",")
            if first_record:
                first_record = False
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise _Relayout from None  # e.g. pretty-printed by another tool
        yield _parse(line, f"line {number}"), f"line {number}", offset
    if not closed:
        raise _fail(f"line {number}", "the JSON array is not closed (truncated file?)")


# What the scanner steps over in one go: whole strings and everything that is not a
# bracket (inside an element), or not a bracket or a comma (between elements). Possessive:
# no backtracking, so a string cut by the end of the buffer is left for the next piece.
_STRING = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_INSIDE = re.compile(rb"(?:[^\"\[\]{}]++|" + _STRING + rb")*+", re.DOTALL)
_BETWEEN = re.compile(rb"(?:[^\"\[\]{},]++|" + _STRING + rb")*+", re.DOTALL)


def _elements(handle: IO[bytes]) -> Iterator[Located]:
    """The elements of the top-level JSON array, parsed one at a time: the scanner holds
    the element being read and at most one more piece of the file."""
    buf, base, pos = bytearray(), 0, 0  # buf starts at file offset ``base``; scan at ``pos``
    depth, start, count = 0, -1, 0
    while True:
        if depth:
            step = (_INSIDE if depth > 1 else _BETWEEN).match(buf, pos)
            pos = step.end() if step else pos
        else:
            pos += len(buf[pos:]) - len(buf[pos:].lstrip())
        if pos >= len(buf) or buf[pos] == 0x22:  # the end, or a string cut by it
            keep = start if start >= 0 else pos
            if len(buf) - keep > MAX_RECORD:
                raise _fail(f"record {count + 1}", f"larger than {MAX_RECORD >> 20} MiB")
            piece = handle.read(PIECE)
            _no_nul(piece, base + len(buf))
            if not piece:
                raise _fail(f"record {count + 1}", "the JSON array is not closed (truncated file?)")
            del buf[:keep]
            buf += piece
            base, pos = base + keep, pos - keep
            start = 0 if start >= 0 else -1
            continue
        char = buf[pos]
        if depth == 0:
            if char != 0x5B:
                raise _fail(f"byte {base + pos:,}", "not a JSON array of records")
            depth, start = 1, pos + 1
        elif char in b"[{":
            depth += 1
        elif char in b"]}" or (char == 0x2C and depth == 1):
            if depth == 1:
                text = buf[start:pos].strip()
                if text or char == 0x2C or count:
                    count += 1
                    where = f"record {count}"
                    yield _parse(text, f"{where} at byte {base + start:,}"), where, base + pos
                start = pos + 1
            if char != 0x2C:
                depth -= 1
                if depth == 0:
                    _only_space_after(handle, bytes(buf[pos + 1 :]), base + pos + 1)
                    return
        pos += 1


def _only_space_after(handle: IO[bytes], rest: bytes, offset: int) -> None:
    """Nothing but white space may follow the array."""
    while True:
        if rest.strip():
            at = offset + len(rest) - len(rest.lstrip())
            raise _fail(f"byte {at:,}", "text after the end of the JSON array")
        offset += len(rest)
        rest = handle.read(PIECE)
        if not rest:
            return


def _records(path: Path) -> Iterator[Located]:
    with open(path, "rb") as handle:
        head = handle.read(64)
        _no_nul(head, 0)
        head = head.lstrip()
        if not head:
            raise _fail(path.name, "the file is empty")
        handle.seek(0)
        ndjson = not head.startswith(b"[")
        if ndjson and not head.startswith(b"{"):
            raise _fail("line 1", "not a JSON array or NDJSON records")
        try:
            yield from _read_lines(handle, ndjson)
            return
        except _Relayout:  # raised before any record was handed out
            handle.seek(0)
        yield from _elements(handle)


@dataclass(frozen=True)
class ImportResult:
    profile: Profile
    count: int


def import_capture(
    store: CaptureStore,
    source: Path,
    name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import an export as a new read-only capture; a bad file imports nothing."""
    size = max(source.stat().st_size, 1)
    base = name or f"Import: {source.name}"[:100]
    base = "".join(ch if ch.isprintable() else "?" for ch in base).strip() or "Import"
    taken = {p.name for p in store.profiles()}
    profile_name, n = base, 1
    while profile_name in taken:
        n += 1
        profile_name = f"{base[:90]} ({n})"
    profile = Profile(profile_name, Environment.IMPORTED, "", source=str(source))

    def rows() -> Iterator[tuple[Any, ...]]:
        for i, (record, where, offset) in enumerate(_records(source), 1):
            yield _row_of(record, where)
            if progress is not None and i % 2000 == 0:
                progress(min(offset, size), size)

    count = store.import_rows(profile, rows())
    if progress is not None:
        progress(size, size)
    imported = store.profile(profile_name)
    assert imported is not None
    return ImportResult(imported, count)
