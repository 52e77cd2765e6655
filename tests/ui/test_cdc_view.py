"""The CDC views on events captured from the emulator over loopback: a record created and
changed through REST, its change events and PushTopic events stored by the real capture;
the changed fields first with their values before, and the record's history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
import pytest_asyncio
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from sfmonitor.capture import Capture
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, EventQuery, EventRow
from sfmonitor.store.record_history import record_ids
from sfmonitor.ui.cdc_view import CdcLoader, ChangesView, RecordHistoryList, value_text
from sfmonitor.ui.theme import DARK, LIGHT, apply_theme
from sfmonitor.ui.worker import Worker
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

CHANNELS = ["/data/AccountChangeEvent", "/topic/AccountTopic", "/event/Low_Ink__e"]


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker()
    yield w
    w.shutdown()


@pytest_asyncio.fixture
async def captured(store: CaptureStore) -> AsyncIterator[tuple[int, str]]:
    """Events of an Account created and changed twice, and of another record; the profile
    id and the Account's id."""
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        emu.org.ensure_topic("AccountTopic")
        profile = save_emulator_profile(store, emu.url, CHANNELS)
        assert profile.id is not None
        capture = Capture(store, profile, DEMO_SECRETS, store.subscriptions(profile.id))
        live: set[str] = set()
        capture.client.add_listener(
            lambda n: live.add(n.channel) if getattr(n, "status", None) == "live" else None
        )
        task = asyncio.ensure_future(capture.run())
        org = emu.org
        await wait_until(lambda: live >= set(CHANNELS), 15)
        rid = org.create_record("Account", {"Name": "Acme", "Phone": "1", "Description": "d"})
        org.clock.advance(1)
        org.update_record(rid, {"Phone": "2"})
        org.clock.advance(1)
        org.create_record("Account", {"Name": "Other"})
        org.clock.advance(1)
        org.update_record(rid, {"Name": "Acme Corp", "Description": None})
        org.publish_any("/event/Low_Ink__e", {"Ink__c": 1})
        expected = (
            len(org.channels["/data/AccountChangeEvent"].events)
            + len(org.channels["/topic/AccountTopic"].events)
            + 1
        )
        await wait_until(lambda: store.count(EventQuery(profile.id)) >= expected, 15)
        await capture.stop()
        await asyncio.wait_for(task, 10)
        yield profile.id, rid


def stored(store: CaptureStore, pid: int) -> list[EventRow]:
    rows = store.fetch(EventQuery(pid), 0, 1000)
    return [r for r in (store.event(row.id) for row in rows) if r is not None]


@pytest.mark.asyncio
async def test_changes_first_with_values_before_and_the_record_history(
    store: CaptureStore, worker: Worker, captured: tuple[int, str], qtbot: Any
) -> None:
    pid, rid = captured
    events = stored(store, pid)
    mine = sorted(
        (r for r in events if rid in record_ids(orjson.loads(r.raw or "null"))),
        key=lambda r: (r.created_at, r.id),
    )
    last_change = [r for r in mine if r.kind == "change_event"][-1]
    loader = CdcLoader(store, worker)
    qtbot.addWidget(loader.changes)
    qtbot.addWidget(loader.history)
    loaded: list[bool] = []
    loader.loaded.connect(loaded.append)
    loader.show_event(last_change.id)
    await loader.settle()
    assert loaded == [True]
    rows = loader.changes.rows()
    changed = [r for r in rows if r[0] in ("Name", "Description", "LastModifiedDate")]
    assert rows[: len(changed)] == changed  # the changed fields come first
    by_field = {r[0]: r for r in rows}
    assert by_field["Name"][1:] == ("Acme Corp", "Acme")
    assert by_field["Description"][1:] == ("null", "d")
    assert "changed fields" in loader.changes.heading.text()
    assert loader.history.event_ids() == [r.id for r in mine]  # every event, in time order
    assert {r.kind for r in mine} == {"change_event", "pushtopic"}
    assert rid in loader.history.heading.text()
    current = loader.history.tree.currentItem()
    assert current is not None and current.font(0).bold()

    activated: list[int] = []
    loader.history.event_activated.connect(activated.append)
    first = loader.history.tree.topLevelItem(0)
    assert first is not None
    loader.history.tree.itemActivated.emit(first, 0)
    assert activated == [mine[0].id]

    other = next(r for r in events if r.kind == "platform_event")
    loader.show_event(other.id)
    await loader.settle()
    assert loaded == [True, False] and loader.history.event_ids() == []
    assert loader.changes.heading.text() == "Not a change of a record"


@pytest.mark.asyncio
async def test_the_newest_choice_wins(
    store: CaptureStore, worker: Worker, captured: tuple[int, str]
) -> None:
    pid, _rid = captured
    changes = [r for r in stored(store, pid) if r.kind == "change_event"]
    loader = CdcLoader(store, worker)
    for row in changes:  # chosen quickly one after the other
        loader.show_event(row.id)
    await loader.settle()
    assert loader.event_id == changes[-1].id
    assert loader.history.tree.currentItem() is not None
    assert loader.history.tree.currentItem().data(0, 256) == changes[-1].id  # type: ignore[union-attr]
    loader.show_event(None)
    assert loader.changes.rows() == [] and loader.history.event_ids() == []


def test_changed_rows_are_marked_in_either_scheme(qtbot: Any, qapp: QApplication) -> None:
    from sfmonitor.store.record_history import FieldChange

    view = ChangesView()
    qtbot.addWidget(view)
    view.set_changes(
        "h", [FieldChange("Name", "B", True, "A", 7), FieldChange("Phone", None, False)]
    )
    item = view.tree.topLevelItem(0)
    assert item is not None
    assert item.background(1).color() == QColor(LIGHT.changed_background)
    assert view.rows() == [("Name", "B", "A"), ("Phone", "null", "—")]
    apply_theme(qapp, "dark")
    try:
        qapp.processEvents()
        assert item.background(1).color() == QColor(DARK.changed_background)
    finally:
        apply_theme(qapp, "system")
        qapp.processEvents()
    assert value_text("x" * 400).endswith("…") and value_text({"a": 1}) == '{"a":1}'
    history = RecordHistoryList()
    qtbot.addWidget(history)
    history.set_history([], [], None)
    assert history.heading.text() == "No record"
