"""The detail pane in the window (issue 18): for a change event the changed fields and a
"Record history" tab listing every captured event of its record in time order; an event
chosen there is shown in the table; pretty / raw, copy value and path, find. Events are
captured from the real emulator (a record created and changed through its REST API)."""

from __future__ import annotations

import orjson
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from sfmonitor.store import CaptureStore
from sfmonitor.store.record_history import record_ids
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.waiting import wait_until
from tests.ui.test_cdc_view import captured, stored  # noqa: F401  (captured: a fixture)

pytestmark = pytest.mark.asyncio


async def shown(window: MainWindow, store: CaptureStore, pid: int) -> None:
    profile = next(p for p in store.profiles() if p.id == pid)
    await window.show_profile(profile)
    await window.model.settle()
    count = window.model.rowCount()
    await wait_until(lambda: all(window.model.row_at(n) is not None for n in range(count)))


def row_number(window: MainWindow, event_id: int) -> int:
    number = window.model.row_of(event_id)
    assert number is not None
    return number


async def test_record_history_lists_the_records_events_in_time_order(
    window: MainWindow,
    store: CaptureStore,
    captured: tuple[int, str],  # noqa: F811
) -> None:
    pid, rid = captured
    events = stored(store, pid)
    mine = sorted(
        (r for r in events if rid in record_ids(orjson.loads(r.raw or "null"))),
        key=lambda r: (r.created_at, r.id),
    )
    last_change = [r for r in mine if r.kind == "change_event"][-1]
    await shown(window, store, pid)
    tabs = window.detail
    assert not tabs.isTabVisible(tabs.history_tab)  # nothing selected: JSON only

    window.table.selectRow(row_number(window, last_change.id))
    await wait_until(lambda: tabs.has_record())
    await tabs.settle()
    assert tabs.isTabVisible(tabs.changes_tab) and tabs.isTabVisible(tabs.history_tab)
    assert tabs.cdc.history.event_ids() == [r.id for r in mine]
    names = [row[0] for row in tabs.cdc.changes.rows()]
    assert {"Name", "Description"} <= set(names[:3])  # the changed fields come first
    tabs.setCurrentIndex(tabs.history_tab)

    first = tabs.cdc.history.tree.topLevelItem(0)
    assert first is not None
    tabs.cdc.history.tree.itemActivated.emit(first, 0)  # the record's first event
    first_row = row_number(window, mine[0].id)
    await wait_until(lambda: window.table.currentIndex().row() == first_row)
    assert window.pause_action.isChecked()  # live traffic cannot scroll it away
    await tabs.settle()
    assert tabs.currentIndex() == tabs.history_tab  # the person's tab is kept

    other = next(r for r in events if r.kind == "platform_event")
    window.table.selectRow(row_number(window, other.id))
    await wait_until(lambda: '"Ink__c"' in tabs.json.text.toPlainText())
    await tabs.settle()
    assert not tabs.has_record() and not tabs.isTabVisible(tabs.history_tab)
    assert tabs.currentIndex() == 0


async def test_pretty_raw_copy_and_find_in_the_json(
    window: MainWindow,
    store: CaptureStore,
    captured: tuple[int, str],  # noqa: F811
) -> None:
    pid, _rid = captured
    await shown(window, store, pid)
    other = next(r for r in stored(store, pid) if r.kind == "platform_event")
    window.table.selectRow(row_number(window, other.id))
    json = window.detail.json
    await wait_until(lambda: '"Ink__c"' in json.text.toPlainText())
    assert "\n" in json.text.toPlainText()  # pretty
    json.raw_button.click()
    assert json.text.toPlainText() == other.raw
    json.pretty_button.click()
    text = json.text.toPlainText()
    cursor = json.text.textCursor()
    cursor.setPosition(text.index('"Ink__c"') + len('"Ink__c": '))
    json.text.setTextCursor(cursor)
    json.copy_value_button.click()
    assert QApplication.clipboard().text() == "1"
    json.copy_path_button.click()
    assert QApplication.clipboard().text() == "Ink__c"
    window.activateWindow()
    json.text.setFocus()
    await wait_until(lambda: json.text.hasFocus())
    QTest.keyClick(json.text, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # no ambiguity
    assert json.find_bar.isVisible() and not window.filter_bar.text.hasFocus()
    window.table.setFocus()
    await wait_until(lambda: window.table.hasFocus())
    window.find_action.trigger()  # elsewhere: the filter
    assert window.filter_bar.text.hasFocus()
    json.find_text.setText("ink")  # the channel's name and the field
    assert json.find_count.text() == f"{text.casefold().count('ink')}"
    json.find_next()
    assert json.find_count.text().startswith("1 of ")
    assert json.text.textCursor().selectedText().casefold() == "ink"
