"""The NDJSON sink: the same bytes as an export (so ``import`` reads it back), a torn last
line cut on open, a private file, standard output."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.sinks import NdjsonSink, NdjsonSpec
from sfmonitor.sinks.ndjson import cut_torn_line
from sfmonitor.sinks.outbox import SqliteOutbox
from sfmonitor.store import CaptureStore, EventQuery
from sfmonitor.store.export import export_events, import_capture
from tests.sinks.helpers import Filled, forward_all, forwarder_for

pytestmark = pytest.mark.timeout(300)


@pytest.mark.asyncio
async def test_the_file_is_an_export_that_imports_back(filled: Filled, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    await forward_all(
        forwarder_for(filled.folder, filled.profile_id, f"ndjson://{out}", filled.org_id),
        filled.count,
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # events may be private
    with CaptureStore.open(filled.folder) as store:
        exported = export_events(store, EventQuery(filled.profile_id), tmp_path / "export.ndjson")
        assert out.read_bytes() == exported.path.read_bytes()
        imported = import_capture(store, out)
    assert imported.count == filled.count


@pytest.mark.parametrize("torn", [b"", b'{"channel":"/u/news","replayId":12', b"x" * 70_000])
def test_a_torn_last_line_is_cut(tmp_path: Path, torn: bytes) -> None:
    path = tmp_path / "f.ndjson"
    whole = b'{"a":1}\n{"b":2}\n'
    path.write_bytes(whole + torn)
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        assert cut_torn_line(fd) == len(torn)
    finally:
        os.close(fd)
    assert path.read_bytes() == whole
    path.write_bytes(b"no newline at all")
    fd = os.open(path, os.O_RDWR)
    try:
        cut_torn_line(fd)
    finally:
        os.close(fd)
    assert path.read_bytes() == b""


@pytest.mark.asyncio
async def test_open_repairs_the_file_before_appending(filled: Filled, tmp_path: Path) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(b'{"kept":1}\n{"torn":')
    sink = NdjsonSink(NdjsonSpec(path))
    outbox = SqliteOutbox(filled.folder / "capture.db", filled.profile_id)
    batch = outbox.read_after(0, 3)
    await sink.open()
    await sink.write(batch)
    await sink.close()
    outbox.close()
    lines = path.read_bytes().splitlines()
    assert lines[0] == b'{"kept":1}' and [line.decode() for line in lines[1:]] == [
        r.record for r in batch
    ]


def test_standard_output_gets_the_records_and_a_closed_pipe_stops_the_sink(
    filled: Filled,
) -> None:
    script = (
        "import asyncio, sys\n"
        "from sfmonitor.sinks import NdjsonSink, parse_sink_url, SinkRefusedError\n"
        "from sfmonitor.sinks.outbox import SqliteOutbox\n"
        f"outbox = SqliteOutbox(__import__('pathlib').Path({str(filled.folder / 'capture.db')!r}),"
        f" {filled.profile_id})\n"
        "async def main():\n"
        "    sink = NdjsonSink(parse_sink_url('ndjson:-'))\n"
        "    await sink.open()\n"
        "    cursor = 0\n"
        "    try:\n"
        "        while batch := outbox.read_after(cursor, 500):\n"
        "            await sink.write(batch)\n"
        "            cursor = batch[-1].id\n"
        "    except SinkRefusedError as exc:\n"
        "        print(exc, file=sys.stderr)\n"
        "        return 3\n"
        "    return 0\n"
        "sys.exit(asyncio.run(main()))\n"
    )
    whole = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=True
    )
    assert len(whole.stdout.splitlines()) == filled.count
    head = subprocess.run(
        f'{sys.executable} -c "$SCRIPT" | head -n 3',
        shell=True,
        env=dict(os.environ, SCRIPT=script),
        capture_output=True,
        timeout=60,
    )
    assert len(head.stdout.splitlines()) == 3
    assert b"the reader of standard output left" in head.stderr
