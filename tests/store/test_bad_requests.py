"""Requests the store must answer in its own words: a huge filter term, an export into
a missing folder or onto a folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sfmonitor.store import CaptureStore, EventQuery, FilterError, Profile, export_events
from tests.helpers.events import event, push_topic


@pytest.mark.parametrize(
    "text",
    [
        "a" * 50_001,
        "%_" * 20_000,
        '"' + "b" * 60_000 + '"',
        "x" * 10_001,
        "sobject.Name = " + "c" * 60_000,
        "sobject.Name ~ " + "d" * 60_000,
    ],
    ids=["plain", "escaped", "quoted", "just-over", "equals", "contains"],
)
def test_a_huge_filter_term_is_a_filter_error_never_a_sqlite_one(
    store: CaptureStore, profile: Profile, text: str
) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i)) for i in range(1, 30)])
    query = EventQuery(profile.id, text=text)
    try:
        store.count(query)
        store.count_and_fetch(query)
        store.fetch(query, offset=5000)
    except FilterError as exc:
        assert "too long" in str(exc) and "at most 10,000" in str(exc)


def test_a_long_but_allowed_term_is_searched(store: CaptureStore, profile: Profile) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(1, name="z" * 10_000))])
    assert store.count(EventQuery(profile.id, text="z" * 10_000)) == 1


def test_an_export_into_a_missing_folder_names_the_chosen_file(
    store: CaptureStore, profile: Profile, tmp_path: Path
) -> None:
    target = tmp_path / "no such folder" / "events.json"
    with pytest.raises(FileNotFoundError) as info:
        export_events(store, EventQuery(profile.id), target)
    assert str(target) in str(info.value) and ".partial" not in str(info.value)
    assert "does not exist" in str(info.value)


def test_an_export_onto_a_folder_fails_before_writing(
    store: CaptureStore, profile: Profile, tmp_path: Path
) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i)) for i in range(1, 100)])
    out = tmp_path / "out"
    target = out / "a folder"
    target.mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        export_events(store, EventQuery(profile.id), target)
    assert list(out.iterdir()) == [target] and list(target.iterdir()) == []


def test_an_export_is_readable_by_its_owner_only(
    store: CaptureStore, profile: Profile, tmp_path: Path
) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(1))])
    result = export_events(store, EventQuery(profile.id), tmp_path / "out.ndjson")
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
