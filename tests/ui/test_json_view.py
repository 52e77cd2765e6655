"""The JSON view: pretty / raw, the field under the cursor named as the filter language
names it (checked against the store's own lookup), copy, add as column, find, theme."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from sfmonitor.store import CaptureStore, Environment, Profile
from sfmonitor.store.field_columns import field_values
from sfmonitor.ui.json_paths import filter_path, json_path, node_at, pretty, spans
from sfmonitor.ui.json_view import JsonView
from sfmonitor.ui.theme import DARK, LIGHT, apply_theme

CDC = {
    "channel": "/data/AccountChangeEvent",
    "data": {
        "schema": "s",
        "payload": {
            "ChangeEventHeader": {
                "entityName": "Account",
                "recordIds": ["001xx000003DGb2AAG"],
                "changeType": "UPDATE",
                "changedFields": ["Name", "Phone"],
                "commitTimestamp": 1586641785000,
            },
            "Name": "Acme <b>Corp</b>",
            "Phone": None,
            "odd key": "x",
            "event": {"replayId": 1},  # a payload field shadowing data.event.replayId
        },
        "event": {"replayId": 3217203},
    },
}
RAW = json.dumps(CDC, separators=(",", ":"))


def resolve(message: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        message = message[part]
    return message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_every_value_is_found_where_it_is_in_compact_and_pretty_text(value: Any) -> None:
    for text in (json.dumps(value, separators=(",", ":")), json.dumps(value, indent=2)):
        nodes = spans(text)
        assert nodes and nodes[0].path == () and nodes[0].end == len(text)
        for node in nodes:
            assert json.loads(text[node.start : node.end]) == resolve(value, node.path)
            assert node_at(nodes, node.start) is node
            if node.key is not None:
                assert json.loads(text[node.key[0] : node.key[1]]) == node.path[-1]
                assert node_at(nodes, node.key[0]) is node


def test_text_that_is_not_json_has_no_values() -> None:
    assert spans('{"a":') == spans("[1, 2] x") == spans("") == spans('{"a" 1}') == []
    deep = '"x"'
    for _ in range(5000):
        deep = '{"a":' + deep + "}"
    assert len(spans(deep)) == 5001 and pretty(deep) == deep  # too deep for json: as is


def test_paths_are_the_shortest_a_filter_resolves_to_the_value() -> None:
    names = {filter_path(CDC, n.path) for n in spans(RAW)}
    assert {
        "ChangeEventHeader.recordIds[0]",
        "Name",
        "event.replayId",  # the payload's own
        "schema",
        "channel",
        "data.event.replayId",  # "event.replayId" would find the payload's own "event"
    } <= names
    assert filter_path(CDC, ("data", "payload", "odd key")) is None
    assert json_path(("data", "payload", "odd key")) == '$.data.payload["odd key"]'
    assert filter_path(CDC, ("data", "missing")) is None


def test_every_filter_path_reads_the_same_value_through_the_store(store: CaptureStore) -> None:
    profile = store.save_profile(Profile("P", Environment.SANDBOX, "https://x"))
    row = (profile.id, CDC["channel"], "change_event", 1, None, 1, 1, "UPDATE", "s", RAW)
    store.ingest_records([row])
    event_id = store.max_event_id()
    checked = 0
    for node in spans(pretty(RAW)):
        path = filter_path(CDC, node.path)
        if path is None:
            continue
        (stored,) = field_values(store, [event_id], [path])[event_id]
        assert stored == resolve(CDC, node.path), path
        checked += 1
    assert checked >= 12


def place(view: JsonView, needle: str, offset: int = 1) -> None:
    cursor = view.text.textCursor()
    cursor.setPosition(view.text.toPlainText().index(needle) + offset)
    view.text.setTextCursor(cursor)


@pytest.fixture
def view(qtbot: Any) -> JsonView:
    widget = JsonView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    widget.show_event("Account change <i>1</i>", RAW)
    return widget


def test_pretty_and_raw_are_plain_text(view: JsonView, qtbot: Any) -> None:
    assert view.text.toPlainText() == pretty(RAW) and "Acme <b>Corp</b>" in pretty(RAW)
    assert view.title.text() == "Account change <i>1</i>"
    assert view.title.textFormat() == Qt.TextFormat.PlainText
    qtbot.mouseClick(view.raw_button, Qt.MouseButton.LeftButton)
    assert view.text.toPlainText() == RAW and not view.is_pretty
    qtbot.mouseClick(view.pretty_button, Qt.MouseButton.LeftButton)
    assert view.text.toPlainText() == pretty(RAW)
    view.show_event("nothing", None)
    assert view.text.toPlainText() == "" and not view.copy_value_button.isEnabled()


@pytest.mark.parametrize("mode", ["pretty", "raw"])
def test_copy_value_and_path_of_the_field_under_the_cursor(
    view: JsonView, qtbot: Any, mode: str
) -> None:
    if mode == "raw":
        view.raw_button.click()
    clipboard = QApplication.clipboard()
    place(view, '"Acme')  # on the value
    assert view.field.text() == "Field: Name"
    view.copy_value_button.click()
    assert clipboard.text() == "Acme <b>Corp</b>"
    view.copy_path_button.click()
    assert clipboard.text() == "Name"
    place(view, '"recordIds"', 3)  # on a key: that key's value
    view.copy_path_button.click()
    assert clipboard.text() == "ChangeEventHeader.recordIds"
    view.copy_value_button.click()
    assert json.loads(clipboard.text()) == ["001xx000003DGb2AAG"]
    place(view, '"odd key"')  # no filter path: a JSONPath to copy, no column
    assert view.field.text() == "" and not view.add_column_button.isEnabled()
    view.copy_path_button.click()
    assert clipboard.text() == '$.data.payload["odd key"]'


def test_add_as_column_emits_the_filter_path(view: JsonView) -> None:
    wanted: list[str] = []
    view.add_column_requested.connect(wanted.append)
    place(view, "3217203", 0)
    view.add_column_button.click()
    place(view, '"001xx')
    view.add_column_button.click()
    assert wanted == ["data.event.replayId", "ChangeEventHeader.recordIds[0]"]


def test_find_highlights_every_match_and_steps_through_them(view: JsonView, qtbot: Any) -> None:
    view.activateWindow()
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_bar.isVisible() and view.find_text.hasFocus()
    qtbot.keyClicks(view.find_text, "NAME")  # case-insensitive
    text = view.text.toPlainText()
    starts = [i for i in range(len(text)) if text[i : i + 4].lower() == "name"]
    assert len(starts) == 3 and view.find_count.text() == "3"
    assert len(view.text.extraSelections()) == 3
    qtbot.keyClick(view.find_text, Qt.Key.Key_Return)
    assert view.find_count.text() == "1 of 3"
    assert view.text.textCursor().selectionStart() == starts[0]
    qtbot.keyClick(view.find_text, Qt.Key.Key_F3)
    qtbot.keyClick(view.find_text, Qt.Key.Key_F3)
    qtbot.keyClick(view.find_text, Qt.Key.Key_F3)  # wraps around
    assert view.text.textCursor().selectionStart() == starts[0]
    qtbot.keyClick(view.find_text, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert view.text.textCursor().selectionStart() == starts[2]
    assert view.text.textCursor().selectedText().lower() == "name"
    qtbot.keyClicks(view.find_text, "zzz")
    assert view.find_count.text() == "No match" and view.text.extraSelections() == []
    qtbot.keyClick(view.find_text, Qt.Key.Key_Escape)
    assert not view.find_bar.isVisible()


def key_colour(view: JsonView) -> QColor:
    """The colour the highlighter gave the first key of the text."""
    block = view.text.document().findBlockByNumber(1)  # '  "channel": ...'
    formats = block.layout().formats()
    key = next(f for f in formats if f.start == 2)
    return key.format.foreground().color()


def test_theme_switch_recolours_the_json(view: JsonView, qapp: QApplication) -> None:
    assert key_colour(view) == QColor(LIGHT.json_key)
    apply_theme(qapp, "dark")
    try:
        qapp.processEvents()
        assert key_colour(view) == QColor(DARK.json_key)
    finally:
        apply_theme(qapp, "system")
        qapp.processEvents()
    assert key_colour(view) == QColor(LIGHT.json_key)


def test_numbers_and_literals_inside_strings_stay_strings(view: JsonView) -> None:
    view.show_event("t", '{"when": "2026-12-02 true", "n": 12, "b": false}')
    block = view.text.document().findBlockByNumber(1)  # '  "when": "2026-12-02 true",'
    colours = {f.start: f.format.foreground().color() for f in block.layout().formats()}
    value = block.text().index('"2026')
    assert colours[value] == QColor(LIGHT.json_string)
    assert all(c != QColor(LIGHT.json_number) for c in colours.values())
    number = view.text.document().findBlockByNumber(2)
    starts = {f.start: f.format.foreground().color() for f in number.layout().formats()}
    assert starts[number.text().index("12")] == QColor(LIGHT.json_number)


def test_the_json_is_read_for_paths_only_when_the_cursor_moves(view: JsonView) -> None:
    view.show_event("t", RAW)
    assert view._nodes is None and view.field.text() == ""
    place(view, '"Acme')
    assert view._nodes is not None and view.field.text() == "Field: Name"
