"""The column chooser: show, hide, reorder, add and remove field columns on the real
dialog; the list persisted by the caller survives a damaged setting."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from sfmonitor.store import FilterError
from sfmonitor.ui.column_chooser import (
    ColumnChooser,
    ColumnSpec,
    choose_columns,
    columns_from_text,
    columns_to_text,
    field_column,
    fixed_columns,
    visible_fields,
    with_field,
)
from sfmonitor.ui.events_model import COLUMNS
from sfmonitor.ui.modal import Dialogs
from tests.helpers.waiting import wait_until


def keys(columns: list[ColumnSpec]) -> list[str]:
    return [c.key for c in columns]


def ok_button(dialog: ColumnChooser) -> Any:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_fields_are_added_removed_moved_and_hidden(qtbot: Any) -> None:
    dialog = ColumnChooser(fixed_columns())
    qtbot.addWidget(dialog)
    assert keys(dialog.columns()) == [key for _title, key in COLUMNS]
    qtbot.keyClicks(dialog.path, "Amount__c")
    qtbot.mouseClick(dialog.add, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.path, "sobject.Name")
    qtbot.keyClick(dialog.path, Qt.Key.Key_Return)
    assert keys(dialog.columns())[-2:] == ["field:Amount__c", "field:sobject.Name"]
    assert dialog.path.text() == "" and not dialog.error.isVisibleTo(dialog)

    qtbot.keyClicks(dialog.path, "not a path")  # refused inline, nothing added
    qtbot.mouseClick(dialog.add, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisibleTo(dialog) and "is not a field path" in dialog.error.text()
    assert len(dialog.columns()) == len(COLUMNS) + 2
    dialog.path.clear()

    dialog.list.setCurrentRow(len(COLUMNS))  # Amount__c: up twice
    qtbot.mouseClick(dialog.up, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.up, Qt.MouseButton.LeftButton)
    assert keys(dialog.columns())[len(COLUMNS) - 2] == "field:Amount__c"
    dialog.list.setCurrentRow(0)  # a fixed column cannot be removed, only hidden
    assert not dialog.remove.isEnabled() and not dialog.up.isEnabled()
    dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.list.setCurrentRow(dialog.list.count() - 1)
    assert not dialog.down.isEnabled()
    qtbot.mouseClick(dialog.remove, Qt.MouseButton.LeftButton)
    chosen = dialog.columns()
    assert "field:sobject.Name" not in keys(chosen) and not chosen[0].visible
    assert visible_fields(chosen) == ["Amount__c"]


def test_ok_needs_a_column_shown(qtbot: Any) -> None:
    dialog = ColumnChooser(fixed_columns())
    qtbot.addWidget(dialog)
    for i in range(dialog.list.count()):
        dialog.list.item(i).setCheckState(Qt.CheckState.Unchecked)
    assert not ok_button(dialog).isEnabled() and "at least one" in dialog.error.text()
    dialog.list.item(2).setCheckState(Qt.CheckState.Checked)
    assert ok_button(dialog).isEnabled()
    qtbot.mouseClick(dialog.reset, Qt.MouseButton.LeftButton)
    assert dialog.columns() == fixed_columns()


def test_adding_a_field_twice_shows_it_once(qtbot: Any) -> None:
    start = with_field(fixed_columns(), "Amount__c")
    start[-1:] = [ColumnSpec("field:Amount__c", "Amount__c", visible=False)]
    dialog = ColumnChooser(start)
    qtbot.addWidget(dialog)
    dialog.path.setText("Amount__c")
    dialog.add.click()
    assert [c for c in dialog.columns() if c.field_path] == [field_column("Amount__c")]
    assert with_field(with_field(fixed_columns(), "X"), "X") == with_field(fixed_columns(), "X")
    with pytest.raises(FilterError):
        field_column("a b")


def test_columns_persist_and_damaged_settings_give_defaults(tmp_path: Path) -> None:
    columns = with_field(fixed_columns(), "ChangeEventHeader.recordIds[0]")
    columns = [columns[-1], *columns[1:-1], ColumnSpec(columns[0].key, columns[0].title, False)]
    path = tmp_path / "s.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    settings.setValue("profiles/Demo/columns", columns_to_text(columns))
    settings.sync()
    again = QSettings(str(path), QSettings.Format.IniFormat).value("profiles/Demo/columns")
    assert columns_from_text(again) == columns

    assert columns_from_text("{broken") == fixed_columns()
    assert columns_from_text(None) == fixed_columns()
    assert columns_from_text('{"key": "time"}') == fixed_columns()
    damaged = (
        '[{"key": "summary", "visible": false}, {"key": "nope"}, {"key": "field:a b"}, '
        '{"key": "summary"}, 7, {"key": "field:Amount__c"}]'
    )
    restored = columns_from_text(damaged)
    assert keys(restored[:2]) == ["summary", "field:Amount__c"] and not restored[0].visible
    assert sorted(keys(restored)) == sorted([*keys(fixed_columns()), "field:Amount__c"])
    hidden = columns_from_text(columns_to_text([ColumnSpec(k, k, False) for k in keys(columns)]))
    assert all(c.visible for c in hidden)  # never a table without columns


@pytest.mark.asyncio
async def test_choose_columns_awaits_the_dialog(tmp_path: Path) -> None:
    parent = QWidget()
    dialogs = Dialogs(parent, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    task = asyncio.ensure_future(choose_columns(dialogs, fixed_columns()))
    await wait_until(lambda: isinstance(dialogs.current, ColumnChooser))
    dialog = dialogs.current
    assert isinstance(dialog, ColumnChooser)
    dialog.path.setText("Region__c")
    dialog.add.click()
    ok_button(dialog).click()
    result = await task
    assert result is not None and keys(result)[-1] == "field:Region__c"
    task = asyncio.ensure_future(choose_columns(dialogs, fixed_columns()))
    await wait_until(lambda: isinstance(dialogs.current, ColumnChooser))
    assert dialogs.current is not None
    dialogs.current.reject()
    assert await task is None
    parent.deleteLater()
