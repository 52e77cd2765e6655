"""Export of captured events to JSON or NDJSON, and import of such files.

Each record is ``{"channel", "replayId", "kind", "createdDate", "receivedAt", "event"}``
where ``event`` is the message exactly as received. Exports stream row by row (constant
memory) into a temporary file that is renamed when complete, so a cancelled or failed
export never leaves a half-written file under the chosen name. A JSON export writes one
record per line inside the array, which lets the import read it line by line too.
Export, import, export again: the two files are byte-identical.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from sfmonitor.streaming.events import EventKind, StreamEvent, change_of, summarize
from sfmonitor.streaming.replay import iso_from_ms, parse_time

from .captures import CaptureStore
from .ingest import REPLAY_ID_MAX
from .models import Environment, EventQuery, Profile
from .records import GAP_KIND, gap_summary, raw_json
from .records import text_for_sqlite as _text

FORMATS = ("json", "ndjson")
Progress = Callable[[int, int], None]  # (done, total)
_KINDS = {k.value for k in EventKind} | {GAP_KIND}
WHOLE_FILE_LIMIT = 256 << 20  # JSON not in our one-record-per-line layout is parsed whole


class ExportCancelled(Exception):
    """The caller cancelled; nothing was written under the target name."""


class ImportFormatError(ValueError):
    """The file is not an sfmonitor export; the message says where and why."""


def format_for(path: Path) -> str:
    return "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "json"


def _record(
    channel: str, replay_id: int | None, kind: str, created: int, received: int, raw: bytes
) -> bytes:
    return b"".join(
        (
            b'{"channel":',
            orjson.dumps(channel),
            b',"replayId":',
            orjson.dumps(replay_id),
            b',"kind":',
            orjson.dumps(kind),
            b',"createdDate":"',
            iso_from_ms(created).encode(),
            b'","receivedAt":"',
            iso_from_ms(received).encode(),
            b'","event":',
            raw,
            b"}",
        )
    )


def event_record_bytes(event: StreamEvent) -> bytes:
    """The export record of an event just received (for ``capture --ndjson``)."""
    replay_id = event.replay_id
    if replay_id is not None and not 0 <= replay_id <= REPLAY_ID_MAX:
        replay_id = None  # as the store keeps it (``ingest``): the message has it
    return _record(
        _text(event.channel) or "",
        replay_id,
        event.kind.value,
        int(event.created_at.timestamp() * 1000),
        int(event.received_at.timestamp() * 1000),
        raw_json(event.raw).encode(),
    )


def _iso_sql(column: str) -> str:
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000, 'unixepoch') || '.' || "
        f"printf('%03d', {column} % 1000) || 'Z'"
    )


# The same record as ``event_record_bytes``, assembled by SQLite: an export then costs little more
# than reading the rows (tests check that both give identical bytes).
RECORD_SQL = (
    "'{\"channel\":' || json_quote(e.channel) || ',\"replayId\":' || "
    "coalesce(e.replay_id, 'null') || ',\"kind\":' || json_quote(e.kind) || "
    f'\',"createdDate":"\' || {_iso_sql("e.created_at")} || '
    f'\'","receivedAt":"\' || {_iso_sql("e.received_at")} || '
    "'\",\"event\":' || e.raw || '}'"
)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    bytes: int


def export_events(
    store: CaptureStore,
    query: EventQuery,
    target: Path,
    fmt: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ExportResult:
    """Write the events matching ``query`` to ``target`` (blocking: run it in a worker)."""
    fmt = fmt or format_for(target)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (use json or ndjson)")
    target = target.expanduser().resolve()
    fd, tmp_name = _partial_file(target)
    try:
        total = store.count(query)
    except BaseException:
        os.close(fd)
        os.unlink(tmp_name)
        raise
    count = 0
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as out:
            if fmt == "json":
                out.write(b"[")
            separator = b"\n" if fmt == "json" else b""
            for record in store.iter_values(query, RECORD_SQL):
                out.write(separator)
                out.write(record.encode())
                if fmt == "json":
                    separator = b",\n"
                else:
                    out.write(b"\n")
                count += 1
                if count % 2000 == 0:
                    if cancel is not None and cancel.is_set():
                        raise ExportCancelled(f"export to {target} cancelled")
                    if progress is not None:
                        progress(count, max(total, count))
            if fmt == "json":
                out.write(b"\n]\n" if count else b"]\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    if progress is not None:
        progress(count, count)
    return ExportResult(target, count, target.stat().st_size)


def _partial_file(target: Path) -> tuple[int, str]:
    """The hidden file an export is written into (renamed to ``target`` when complete),
    readable by its owner only. Errors name ``target``, the file the user chose, and
    come before anything is written."""
    if target.is_dir():
        raise IsADirectoryError(f"cannot export to {target}: it is a folder; choose a file name")
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot export to {target}: the folder {target.parent} does not exist"
        )
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot export to {target}: {exc.strerror}") from None


# --- import ------------------------------------------------------------------------------


def _fail(where: str, message: str) -> ImportFormatError:
    return ImportFormatError(f"{where}: {message}")


def _row_of(record: Any, where: str) -> tuple[Any, ...]:
    """Validate one record; the ``events`` row for it (without the profile id)."""
    if not isinstance(record, dict):
        raise _fail(where, "a record must be a JSON object")
    missing = [
        k
        for k in ("channel", "replayId", "kind", "createdDate", "receivedAt", "event")
        if k not in record
    ]
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
    data = event.get("data")
    inner = data.get("event") if isinstance(data, dict) else None
    uuid = inner.get("EventUuid") if isinstance(inner, dict) else None
    if kind == GAP_KIND:
        summary = gap_summary(event.get("gap"))
        return (channel, kind, None, None, *times, "GAP", summary, raw_json(event))
    event_kind = EventKind(kind)
    return (
        channel,
        kind,
        replay_id,
        uuid if isinstance(uuid, str) else None,
        times[0],
        times[1],
        _text(change_of(event_kind, channel, data)),
        _text(summarize(event_kind, channel, data)),
        raw_json(event),
    )


def _parse(line: bytes, number: int) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        try:
            return json.loads(line)  # JSON that orjson refuses: an escaped lone surrogate
        except (ValueError, RecursionError):
            raise _fail(f"line {number}, column {exc.colno}", exc.msg) from None


Located = tuple[Any, str, int]  # a record, where it is (for errors), bytes read so far


def _read_lines(handle: IO[bytes], ndjson: bool) -> Iterator[Located]:
    """Records with their location, from our one-record-per-line layout."""
    number = offset = 0
    closed = ndjson
    first_record = True
    for raw in handle:
        number += 1
        offset += len(raw)
        line = raw.strip()
        if not line:
            continue
        if closed and not ndjson:
            raise _fail(f"line {number}", "text after the end of the JSON array")
        if not ndjson:
            if number == 1 or line in (b"[", b"[]"):
                if line == b"[]":
                    closed = True
                elif line != b"[":
                    raise _Relayout
                continue
            if line == b"]":
                closed = True
                continue
            if line.endswith(b","):
                line = line[:-1]
            if first_record:
                first_record = False
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise _Relayout from None  # e.g. pretty-printed by another tool
        yield _parse(line, number), f"line {number}", offset
    if not closed:
        raise _fail(f"line {number}", "the JSON array is not closed (truncated file?)")


class _Relayout(Exception):
    """The JSON is valid-looking but not one record per line: parse it whole."""


def _records(path: Path) -> Iterator[Located]:
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip()
        if not head:
            raise _fail(str(path.name), "the file is empty")
        handle.seek(0)
        ndjson = not head.startswith(b"[")
        if ndjson and not head.startswith(b"{"):
            raise _fail("line 1", "not a JSON array or NDJSON records")
        try:
            yield from _read_lines(handle, ndjson)
            return
        except _Relayout:
            pass
    if path.stat().st_size > WHOLE_FILE_LIMIT:
        raise _fail(path.name, "JSON arrays this large must have one record per line")
    data = path.read_bytes()
    try:
        records = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _fail(f"line {exc.lineno}, column {exc.colno}", exc.msg) from None
    if not isinstance(records, list):
        raise _fail("line 1", "the top level must be an array")
    for i, record in enumerate(records):
        yield record, f"record {i + 1}", len(data)


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
    base = name or f"Import: {source.name}"
    taken = {p.name for p in store.profiles()}
    profile_name, n = base, 1
    while profile_name in taken:
        n += 1
        profile_name = f"{base} ({n})"
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
