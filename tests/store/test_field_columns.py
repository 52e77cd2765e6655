"""Payload fields as columns: the filter's paths and lookup order, JSON types kept, and
windows ordered by a field through the store (against Python's order of the same values)."""

from __future__ import annotations

from typing import Any

import pytest

from sfmonitor.store import CaptureStore, EventQuery, FilterError, Profile
from sfmonitor.store.field_columns import (
    cell_text,
    check_path,
    fetch_by_field,
    field_values,
    order_sql,
)
from sfmonitor.store.records import EventRecord, raw_json
from tests.helpers.events import T0, change_event, event, platform_event, push_topic


def fill(store: CaptureStore, pid: int) -> dict[str, int]:
    """Events of every kind; the ids of a few by name."""
    messages: list[dict[str, Any]] = [
        push_topic(1, "Globex"),
        push_topic(2, "acme"),
        push_topic(3, "Zeta", typ="created"),
        change_event(4, amount=250.5),
        change_event(5, change="CREATE", amount=7),
        platform_event(6, "u-1", amount=12),
        platform_event(7, "u-2", amount=3),
    ]
    special = {
        "channel": "/event/Flag__e",
        "data": {
            "payload": {"Ok__c": True, "Amount__c": None, "Tags__c": [1, "two"], "Amount": "9"},
            "event": {"replayId": 8, "EventUuid": "u-3"},
            "Amount__c": 44,  # a null payload field falls through to data, as in a filter
        },
    }
    messages.append(special)
    for i, message in enumerate(messages):
        store.ingest(pid, [event(message, received_ms=T0 + i)])
    rows = store.fetch(EventQuery(pid), 0, 100)
    return {"globex": rows[0].id, "cdc": rows[3].id, "flag": rows[7].id, "pe": rows[5].id}


def test_paths_are_the_filter_languages(store: CaptureStore) -> None:
    for good in ("Amount__c", "sobject.Name", "ChangeEventHeader.recordIds[0]", " a_1.b "):
        assert check_path(good) == good.strip()
    for bad in ("", "a b", "1x", "a..b", "x = 3", "a.", '"q"', "$.data"):
        with pytest.raises(FilterError, match="is not a field path"):
            check_path(bad)
    with pytest.raises(FilterError):
        order_sql("no good", False)


def test_values_follow_the_filters_lookup_and_keep_json_types(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    ids = fill(store, profile.id)
    paths = [
        "sobject.Name",
        "Amount",
        "ChangeEventHeader.recordIds[0]",
        "Ok__c",
        "Amount__c",
        "Tags__c",
        "event.replayId",
        "Nope__c",
    ]
    values = field_values(store, list(ids.values()), paths)
    assert values[ids["globex"]] == ["Globex", None, None, None, None, None, 1, None]
    assert values[ids["cdc"]][1:3] == [250.5, "006xx000001Sv6tAAC"]
    assert values[ids["flag"]] == [None, "9", None, True, 44, [1, "two"], 8, None]
    assert values[ids["pe"]][4] == 12
    # a column shows what the filter compares: the events a filter finds have the value
    for text, path, wanted in (("Amount__c > 10", "Amount__c", lambda v: v > 10),):
        found = {r.id for r in store.fetch(EventQuery(profile.id, text=text), 0, 100)}
        everything = store.fetch(EventQuery(profile.id), 0, 100)
        column = field_values(store, [r.id for r in everything], [path])
        assert found == {i for i, (v,) in column.items() if v is not None and wanted(v)}
    assert field_values(store, [], paths) == {}
    assert field_values(store, [ids["cdc"]], []) == {ids["cdc"]: []}


def sqlite_key(value: Any, event_id: int) -> tuple[int, Any, int]:
    """SQLite's order of values: NULL, numbers, text (booleans are integers there)."""
    if value is None:
        return (0, 0, event_id)
    if isinstance(value, bool | int | float):
        return (1, float(value), event_id)
    return (2, value, event_id)


@pytest.mark.parametrize("path", ["Amount", "sobject.Name", "Amount__c", "event.replayId"])
@pytest.mark.parametrize("descending", [False, True])
def test_windows_are_ordered_by_the_field_through_the_store(
    store: CaptureStore, profile: Profile, path: str, descending: bool
) -> None:
    assert profile.id is not None
    fill(store, profile.id)
    query = EventQuery(profile.id)
    everything = store.fetch(query, 0, 100)
    values = field_values(store, [r.id for r in everything], [path])
    expected = sorted(
        (r.id for r in everything),
        key=lambda i: sqlite_key(values[i][0], i),
        reverse=descending,
    )
    windows = [fetch_by_field(store, query, path, o, 3, descending) for o in (0, 3, 6)]
    assert [r.id for w in windows for r in w] == expected
    assert all(r.raw is None and r.profile_id == profile.id for w in windows for r in w)


def test_ordering_keeps_the_query(store: CaptureStore, profile: Profile) -> None:
    assert profile.id is not None
    fill(store, profile.id)
    query = EventQuery(profile.id, channels=frozenset({"/topic/Accounts"}), text="e")
    rows = fetch_by_field(store, query, "sobject.Name", 0, 10)
    assert [r.summary.split()[3] for r in rows] == ["Name=Globex", "Name=Zeta", "Name=acme"]
    with pytest.raises(FilterError):
        fetch_by_field(store, EventQuery(profile.id, text='"open'), "Amount", 0, 10)


def test_a_message_too_deep_for_sqlite_json_has_no_fields(
    store: CaptureStore, profile: Profile
) -> None:
    pid = profile.id or 0
    ids = fill(store, pid)
    nested: object = "bottom"
    for _ in range(3000):
        nested = {"level": nested}
    message = {"channel": "/u/x", "data": {"event": {"replayId": 1}, "payload": {"x": nested}}}
    deep_row = EventRecord(pid, "/u/x", "generic", 1, None, 1, 1, "m", "deep", raw_json(message))
    store.ingest_records([deep_row])
    deep = store.max_event_id()
    values = field_values(store, [deep, ids["cdc"]], ["Amount"])
    assert values == {deep: [None], ids["cdc"]: [250.5]}
    rows = fetch_by_field(store, EventQuery(pid), "Amount", 0, 100, descending=True)
    assert [r.id for r in rows[:2]] == [ids["flag"], ids["cdc"]]  # text "9", then 250.5
    assert deep in {r.id for r in rows}


def test_cell_text() -> None:
    assert [cell_text(v) for v in (None, "x", 1, 2.5, True, [1, "a"], {"k": None})] == [
        "",
        "x",
        "1",
        "2.5",
        "true",
        '[1,"a"]',
        '{"k":null}',
    ]
    assert len(cell_text(["y" * 500])) == 200
