"""Export to JSON/NDJSON and import back: byte-identical round trips, clear errors."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from sfmonitor.store import (
    CaptureStore,
    EventQuery,
    ExportCancelled,
    ImportFormatError,
    Profile,
    export_events,
    import_capture,
)
from tests.helpers.events import change_event, event, platform_event, push_topic


@pytest.fixture
def filled(store: CaptureStore, profile: Profile) -> int:
    assert profile.id is not None
    store.ingest(
        profile.id,
        [
            event(push_topic(1, 'Zoë \u2603 "quoted" <b>bold</b>')),
            event(change_event(2, amount=12.5)),
            event(platform_event(3, "u3")),
            event({"channel": "/u/notes", "data": {"payload": "hi", "event": {"replayId": 4}}}),
            event({"channel": "/u/n\u00f6tes\u2028", "data": {"payload": "no replay id"}}),
        ],
    )
    return profile.id


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_export_import_export_is_byte_identical(
    store: CaptureStore, filled: int, tmp_path: Path, fmt: str
) -> None:
    first = tmp_path / f"first.{fmt}"
    result = export_events(store, EventQuery(filled), first)
    assert result.count == 5
    imported = import_capture(store, first)
    assert imported.count == 5
    assert imported.profile.read_only and imported.profile.name == f"Import: first.{fmt}"
    second = tmp_path / f"second.{fmt}"
    export_events(store, EventQuery(imported.profile.id), second)
    assert first.read_bytes() == second.read_bytes()
    original = store.fetch(EventQuery(filled), with_raw=True)
    copy = store.fetch(EventQuery(imported.profile.id), with_raw=True)
    strip = [
        (r.channel, r.kind, r.replay_id, r.event_uuid, r.created_at, r.summary, r.raw)
        for r in original
    ]
    assert strip == [
        (r.channel, r.kind, r.replay_id, r.event_uuid, r.created_at, r.summary, r.raw) for r in copy
    ]


def test_export_records_carry_what_the_issue_lists(
    store: CaptureStore, filled: int, tmp_path: Path
) -> None:
    target = tmp_path / "all.json"
    export_events(store, EventQuery(filled, text="ChangeEventHeader.changeType = UPDATE"), target)
    (record,) = orjson.loads(target.read_bytes())
    assert set(record) == {"channel", "replayId", "kind", "createdDate", "receivedAt", "event"}
    assert record["channel"] == "/data/ChangeEvents" and record["replayId"] == 2
    assert record["kind"] == "change_event"
    assert record["createdDate"] == "2025-11-28T03:20:00.000Z"
    assert record["event"] == change_event(2, amount=12.5)


def test_an_empty_export_is_an_empty_array(
    store: CaptureStore, filled: int, tmp_path: Path
) -> None:
    target = tmp_path / "none.json"
    export_events(store, EventQuery(filled, text="nothing-matches-this"), target)
    assert orjson.loads(target.read_bytes()) == []


def test_progress_and_cancel(store: CaptureStore, profile: Profile, tmp_path: Path) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i)) for i in range(1, 10_001)])
    seen: list[tuple[int, int]] = []
    export_events(
        store,
        EventQuery(profile.id),
        tmp_path / "a.ndjson",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[0] == (2000, 10_000) and seen[-1] == (10_000, 10_000)

    cancel = threading.Event()
    target = tmp_path / "b.json"

    def cancel_midway(done: int, total: int) -> None:
        if done >= 4000:
            cancel.set()

    with pytest.raises(ExportCancelled):
        export_events(store, EventQuery(profile.id), target, progress=cancel_midway, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ndjson", "data"]  # nothing partial


def test_a_pretty_printed_array_from_another_tool_imports(
    store: CaptureStore, filled: int, tmp_path: Path
) -> None:
    source = tmp_path / "x.json"
    export_events(store, EventQuery(filled), source)
    pretty = tmp_path / "pretty.json"
    pretty.write_bytes(orjson.dumps(orjson.loads(source.read_bytes()), option=orjson.OPT_INDENT_2))
    assert import_capture(store, pretty).count == 5


GOOD = (
    '{"channel":"/topic/A","replayId":1,"kind":"pushtopic","createdDate":"2025-01-01T00:00:00.000Z",'
    '"receivedAt":"2025-01-01T00:00:01.000Z","event":{"channel":"/topic/A","data":{}}}'
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("hello", "line 1"),
        (f"[\n{GOOD},\n{GOOD[:-20]}", "line 3"),  # truncated
        (f"[\n{GOOD},\n{GOOD}\n", "not closed"),
        (f"{GOOD}\n{GOOD.replace('pushtopic', 'bogus')}\n", "line 2: kind must be"),
        (GOOD + "\n" + GOOD.replace("1,", '"x",', 1) + "\n", "line 2: replayId"),
        (f"{GOOD}\n{GOOD.replace('2025-01-01T00:00:00.000Z', 'yesterday')}\n", "createdDate"),
        (
            GOOD + "\n" + GOOD.replace(',"event":{"channel":"/topic/A","data":{}}', "") + "\n",
            "missing event",
        ),
        (f"{GOOD}\n[1, 2]\n", "line 2: a record must be a JSON object"),
        ('{"a": 1}\n', "missing channel"),
        ("[1, 2, 3]", "record 1: a record must be a JSON object"),
        ('{"a": [1, 2}', "line 1, column"),
    ],
)
def test_a_malformed_file_says_where_and_imports_nothing(
    store: CaptureStore, tmp_path: Path, content: str, message: str
) -> None:
    source = tmp_path / "bad.ndjson"
    source.write_text(content)
    before = store.profiles()
    with pytest.raises(ImportFormatError, match=message):
        import_capture(store, source)
    assert store.profiles() == before
    assert store.count(EventQuery()) == 0


def test_sql_and_python_records_are_identical(store: CaptureStore, profile: Profile) -> None:
    """The export record SQLite assembles equals the one built in Python for ``capture
    --ndjson`` from the event as received."""
    from sfmonitor.store.export import RECORD_SQL, event_record_bytes

    assert profile.id is not None
    events = [
        event(push_topic(1, 'Zoë \u2603 "quoted"')),
        event(change_event(2, amount=12.5)),
        event(platform_event(3, "u3")),
        event({"channel": "/u/n\u00f6tes\u2028", "data": {"payload": "no replay id"}}),
    ]
    store.ingest(profile.id, events)
    in_sql = list(store.iter_values(EventQuery(profile.id), RECORD_SQL))
    assert [s.encode() for s in in_sql] == [event_record_bytes(e) for e in events]
