"""Payload fields as columns in the window (issue 18): "Add as column" from the detail's
JSON, values in the table, a sort by the field through the store (not over the rows held),
the columns kept per profile, and View > Columns. Real emulator, real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, EventQuery, Profile
from sfmonitor.ui.column_chooser import ColumnChooser
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until
from tests.helpers.windows import a_window

pytestmark = pytest.mark.asyncio
INK = "/event/Low_Ink__e"
LEVELS = [5, 30, 7, 100, 2, 64]


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        yield emu


async def captured(window: MainWindow, store: CaptureStore, emu: Emulator) -> Profile:
    """A profile whose platform events carry Ink__c = LEVELS (published in that order)."""
    profile = save_emulator_profile(store, emu.url, (INK,))
    assert profile.id is not None
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    item = window.sidebar.item_of(INK)
    await wait_until(lambda: item is not None and "live" in item.text(), 20)
    for level in LEVELS:
        emu.org.publish_any(INK, {"Ink__c": level, "Printer__c": f"P{level}"})
    await wait_until(lambda: store.count(EventQuery(profile.id)) == len(LEVELS), 20)
    await wait_until(lambda: window.model.rowCount() == len(LEVELS))
    return profile


def column_of(window: MainWindow, key: str) -> int:
    return [k for _title, k in window.model.columns].index(key)


def cells(window: MainWindow, column: int) -> list[str]:
    return [window.model.index(n, column).data() for n in range(window.model.rowCount())]


async def add_from_detail(window: MainWindow, field: str) -> None:
    """Select the first event, put the cursor on ``field`` in its JSON, "Add as column"."""
    window.table.selectRow(0)
    json = window.detail.json
    await wait_until(lambda: f'"{field}"' in json.text.toPlainText())
    cursor = json.text.textCursor()
    cursor.setPosition(json.text.toPlainText().index(f'"{field}"') + 2)
    json.text.setTextCursor(cursor)
    assert json.add_column_button.isEnabled() and json.field.text() == f"Field: {field}"
    json.add_column_button.click()


async def test_a_field_added_from_the_detail_sorts_through_the_store(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    await captured(window, store, emulator)
    await add_from_detail(window, "Ink__c")
    column = column_of(window, "field:Ink__c")
    assert window.model.headerData(column, Qt.Orientation.Horizontal) == "Ink__c"
    await window.model.settle()
    await wait_until(lambda: cells(window, column) == [str(v) for v in LEVELS])  # time order

    window.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    await window.model.settle()
    assert window.model.sort_key == "field:Ink__c" and window.model.descending
    await wait_until(lambda: "…" not in cells(window, column))
    assert cells(window, column) == [str(v) for v in sorted(LEVELS, reverse=True)]
    window.table.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    await window.model.settle()
    await wait_until(lambda: cells(window, column) == [str(v) for v in sorted(LEVELS)])

    await add_from_detail(window, "Printer__c")  # a second field column
    printer = column_of(window, "field:Printer__c")
    await window.model.settle()
    await wait_until(lambda: "…" not in cells(window, printer))
    assert cells(window, printer)[0] == f"P{min(LEVELS)}"  # the order by Ink__c holds


async def test_field_columns_are_kept_per_profile(
    window: MainWindow, store: CaptureStore, emulator: Emulator, tmp_path: Path
) -> None:
    profile = await captured(window, store, emulator)
    other = save_emulator_profile(store, emulator.url, ("/u/news",), name="Other")
    await add_from_detail(window, "Ink__c")
    await window.show_profile(other)
    assert "field:Ink__c" not in [k for _t, k in window.model.columns]
    await window.show_profile(profile)
    assert "field:Ink__c" in [k for _t, k in window.model.columns]
    await window.shutdown()

    async with a_window(store, tmp_path / "settings.ini") as again:
        await again.show_profile(profile)
        column = column_of(again, "field:Ink__c")
        await again.model.settle()
        await wait_until(lambda: cells(again, column) == [str(v) for v in LEVELS])


async def test_the_column_chooser_from_the_view_menu(
    window: MainWindow, store: CaptureStore, emulator: Emulator
) -> None:
    await captured(window, store, emulator)
    window.looks.menus.columns_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, ColumnChooser))
    dialog = window.dialogs.current
    assert isinstance(dialog, ColumnChooser)
    dialog.path.setText("Printer__c")
    dialog.add.click()
    dialog.accept()
    await wait_until(lambda: "field:Printer__c" in [k for _t, k in window.model.columns])
    printer = column_of(window, "field:Printer__c")
    await window.model.settle()
    await wait_until(lambda: cells(window, printer) == [f"P{v}" for v in LEVELS])
