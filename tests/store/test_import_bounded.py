"""Import streams in bounded memory: a 1 GiB sparse file, a one-line array, a record too
big to be an event; and the scanner that cuts foreign arrays agrees with a JSON parser
wherever its pieces end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfmonitor.store import importer

MEASURE = """
import sys
from pathlib import Path
from sfmonitor.store import CaptureStore, ImportFormatError, import_capture

def status(key):  # kB, from Linux's /proc
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

store = CaptureStore.open(Path(sys.argv[1]), index_in_background=False)
store.wait_checked(10)
before = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from now
try:
    outcome = f"imported {import_capture(store, Path(sys.argv[2])).count}"
except ImportFormatError as exc:
    outcome = f"refused: {exc}"
peak = status("VmHWM:")
store.close()
print(outcome)
print(before // 1024, peak // 1024)
"""

RECORD = {
    "channel": "/topic/A",
    "replayId": 0,
    "kind": "pushtopic",
    "createdDate": "2025-01-01T00:00:00.000Z",
    "receivedAt": "2025-01-01T00:00:01.000Z",
    "event": {
        "channel": "/topic/A",
        "data": {
            "event": {"replayId": 0, "createdDate": "2025-01-01T00:00:00.000Z", "type": "updated"},
            "sobject": {"Id": "001xx000003DGb2AAG", "Name": 'Acme, "[x]" {y} \\ ' + "x" * 300},
        },
    },
}


def import_in_a_process(tmp_path: Path, source: Path) -> tuple[str, int]:
    """What importing ``source`` says, and how many MB the process grew by doing it
    (its peak RSS during the import over its RSS before)."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("measures memory with Linux's /proc")
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tmp_path / "data"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    outcome, figures = proc.stdout.splitlines()
    before, peak = (int(x) for x in figures.split())
    print(f"{source.name}: {outcome} (RSS {before} MB, peak {peak} MB: +{peak - before} MB)")
    return outcome, peak - before


@pytest.mark.parametrize("head", [b"", b"[", b"[\n", b"{"], ids=["zeros", "[", "[nl", "{"])
def test_a_1_gib_sparse_file_is_refused_at_once(tmp_path: Path, head: bytes) -> None:
    source = tmp_path / "sparse.json"
    source.write_bytes(head)
    os.truncate(source, 1 << 30)
    outcome, grown = import_in_a_process(tmp_path, source)
    assert outcome == f"refused: byte {len(head)}: a NUL byte: this is not a JSON text file"
    assert grown < 30


def test_a_one_line_array_imports_in_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "oneline.json"
    with source.open("wb") as out:
        out.write(b"[")
        for i in range(40_000):  # ~20 MB on one line
            RECORD["replayId"] = i + 1
            out.write((b"," if i else b"") + orjson.dumps(RECORD))
        out.write(b"]")
    outcome, grown = import_in_a_process(tmp_path, source)
    assert outcome == "imported 40000"
    assert grown < 30  # parsing it whole took ~10x the file


def test_a_record_larger_than_any_event_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "huge.json"
    source.write_bytes(b'[{"channel": "/topic/A", "x": "' + b"y" * (40 << 20) + b'"}]')
    outcome, grown = import_in_a_process(tmp_path, source)
    assert outcome == "refused: record 1: larger than 16 MiB"
    assert grown < 60


def test_text_after_a_foreign_array_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "x.json"
    source.write_bytes(json.dumps([RECORD], indent=1).encode() + b"\n  trailing")
    with pytest.raises(importer.ImportFormatError, match="text after the end of the JSON array"):
        list(importer._records(source))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab",[]{}\\\n é\u2028')),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet=st.sampled_from('k",[]{}\\'), max_size=4), children)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(JSON, max_size=6),
    indent=st.sampled_from([None, 0, 1, 3]),
    piece=st.integers(1, 40),
)
def test_the_scanner_cuts_any_array_as_a_parser_reads_it(
    values: list[Any], indent: int | None, piece: int
) -> None:
    text = json.dumps(values, indent=indent, ensure_ascii=bool(piece % 2)).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(importer, "PIECE", piece)  # pieces end anywhere: in strings, escapes
        got = [record for record, _, _ in importer._elements(io.BytesIO(text))]
    assert got == values


def test_integers_beyond_64_bits_round_trip_exactly(tmp_path: Path) -> None:
    """A message keeps its numbers as received (a server may send any integer); export,
    import and export again give the same bytes (orjson alone reads them as floats)."""
    from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile, export_events
    from tests.helpers.events import event

    message = {"channel": "/u/x", "data": {"event": {"replayId": 1}, "payload": {"n": 2**70}}}
    with CaptureStore.open(tmp_path / "d") as store:
        profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        store.ingest(profile.id or 0, [event(message)])
        first = export_events(store, EventQuery(profile.id), tmp_path / "a.json").path
        imported = importer.import_capture(store, first)
        second = export_events(store, EventQuery(imported.profile.id), tmp_path / "b.json")
        assert first.read_bytes() == second.path.read_bytes()
        assert str(2**70).encode() in first.read_bytes()
