"""Export of captured events to JSON or NDJSON (import: ``importer``).

Each record is ``{"channel", "replayId", "kind", "createdDate", "receivedAt", "event"}``
where ``event`` is the message exactly as received (a Pub/Sub event's decoded into the
CometD shape of its kind). A Pub/Sub event's record adds ``"pubsub": {"replayId": hex of
the replay id bytes, "schemaId": its Avro schema id, "avro": hex of the payload as
received}`` (lower-case hex; ``replayId`` outside is their 8-byte big-endian value, or
null for another length). Exports stream row by row (constant
memory) into a temporary file that is renamed when complete, so a cancelled or failed
export never leaves a half-written file under the chosen name. A JSON export writes one
record per line inside the array, which lets the import read it line by line too.
Export, import, export again: the two files are byte-identical.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from sfmonitor.streaming.events import StreamEvent
from sfmonitor.timefmt import iso_from_ms

from .captures import CaptureStore
from .errors import ExportCancelled, ImportFormatError
from .importer import ImportResult, import_capture
from .ingest import usable
from .models import EventQuery
from .records import EventRecord, PubSubWire, event_record

FORMATS = ("json", "ndjson")
Progress = Callable[[int, int], None]  # (done, total)


def format_for(path: Path) -> str:
    return "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "json"


def _record(
    channel: str,
    replay_id: int | None,
    kind: str,
    created: int,
    received: int,
    raw: bytes,
    pubsub: bytes = b"",
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
            pubsub,
            b"}",
        )
    )


def _pubsub_part(r: EventRecord) -> bytes:
    if r.replay_bytes is None:
        return b""
    avro = b'"' + r.avro.hex().encode() + b'"' if r.avro is not None else b"null"
    return b"".join(
        (
            b',"pubsub":{"replayId":"',
            r.replay_bytes.hex().encode(),
            b'","schemaId":',
            orjson.dumps(r.schema_id),
            b',"avro":',
            avro,
            b"}",
        )
    )


def record_bytes(r: EventRecord) -> bytes:
    """The export record of an events row about to be stored (``capture --ndjson``)."""
    return _record(
        r.channel,
        r.replay_id if usable(r.replay_id) else None,  # as ``ingest`` keeps it
        r.kind,
        r.created_at,
        r.received_at,
        r.raw.encode(),
        _pubsub_part(r),
    )


def event_record_bytes(event: StreamEvent, wire: PubSubWire | None = None) -> bytes:
    """The export record of an event just received (the message has an odd replay id)."""
    return record_bytes(event_record(0, event, wire))


def _iso_sql(column: str) -> str:
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000, 'unixepoch') || '.' || "
        f"printf('%03d', {column} % 1000) || 'Z'"
    )


# A Pub/Sub event's part of the record (``_pubsub_part``); '' for a CometD event.
_PUBSUB_SQL = (
    "CASE WHEN e.replay_bytes IS NULL THEN '' ELSE "
    '\',"pubsub":{"replayId":"\' || lower(hex(e.replay_bytes)) || '
    '\'","schemaId":\' || json_quote(e.schema_id) || \',"avro":\' || '
    "CASE WHEN e.avro IS NULL THEN 'null' ELSE '\"' || lower(hex(e.avro)) || '\"' END || "
    "'}' END"
)
# The same record as ``event_record_bytes``, assembled by SQLite: an export then costs little more
# than reading the rows (tests check that both give identical bytes).
RECORD_SQL = (
    "'{\"channel\":' || json_quote(e.channel) || ',\"replayId\":' || "
    "coalesce(e.replay_id, 'null') || ',\"kind\":' || json_quote(e.kind) || "
    f'\',"createdDate":"\' || {_iso_sql("e.created_at")} || '
    f'\'","receivedAt":"\' || {_iso_sql("e.received_at")} || '
    f"'\",\"event\":' || e.raw || {_PUBSUB_SQL} || '}}'"
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


__all__ = [
    "FORMATS",
    "RECORD_SQL",
    "ExportCancelled",
    "ExportResult",
    "ImportFormatError",
    "ImportResult",
    "event_record_bytes",
    "export_events",
    "format_for",
    "import_capture",
    "record_bytes",
]
