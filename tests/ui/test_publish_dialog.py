"""“Publish…” over a real describe of the emulator's Shipment_Update__e: one editor per field
type, required fields, defaults, every problem at once, the JSON tab both ways, the history,
the generic channel's payload; the payload really published, and Salesforce's answer said."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import pytest_asyncio
from PySide6.QtCore import QDate, QDateTime, QSettings, Qt, QTime, QTimeZone
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QWidget

from sfmonitor.discovery import (
    EventForm,
    FieldSpec,
    PublishError,
    describe_event,
    publish_event,
    push_generic,
)
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.streaming.errors import TransportError
from sfmonitor.ui.modal import Dialogs
from sfmonitor.ui.publish_dialog import JSON_TAB, PublishDialog
from sfmonitor.ui.publish_fields import DateBox, NumberBox
from sfmonitor.ui.publish_payloads import HISTORY_SIZE, publish_outcome, remember
from tests.discovery.conftest import login
from tests.helpers.waiting import wait_until

EVENT = "Shipment_Update__e"
Org = Callable[[], Awaitable[tuple[Emulator, str, EventForm]]]


@pytest_asyncio.fixture
async def org() -> AsyncIterator[Org]:
    """The demo org (stopped after the test), a token, and the event's form from describe."""
    started: list[Emulator] = []

    async def start() -> tuple[Emulator, str, EventForm]:
        emu = Emulator(EmulatorConfig(catalog="demo"))
        await emu.start()
        started.append(emu)
        token = await login(emu.url)
        return emu, token, await describe_event(emu.url, token, EVENT)

    yield start
    for emu in started:
        await emu.stop()


@pytest.fixture
def window(qtbot: Any) -> Iterator[QWidget]:
    """A window for the dialogs, as the main window is (closing the last window would
    quit the application, and the test's loop with it)."""
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.close()


def open_dialog(
    window: QWidget, target: EventForm | str, history: list[str] | None = None
) -> PublishDialog:
    dialog = PublishDialog(target, history or [], window)
    dialog.show()
    return dialog


def editor(dialog: PublishDialog, name: str) -> Any:
    return dialog.editors[name].editor


def label_of(dialog: PublishDialog, name: str) -> QLabel:
    found = dialog.editors[name].parentWidget().layout().labelForField(dialog.editors[name])  # type: ignore[union-attr]
    assert isinstance(found, QLabel)
    return found


def switch_tab(dialog: PublishDialog, index: int) -> None:
    assert dialog.tabs is not None
    bar = dialog.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def type_e_acute(widget: QWidget) -> None:
    """é as a keyboard types it (QTest.keyClicks takes ASCII only)."""
    QTest.sendKeyEvent(
        QTest.KeyAction.Click, widget, Qt.Key.Key_Eacute, "é", Qt.KeyboardModifier.NoModifier
    )


def set_json(dialog: PublishDialog, text: str) -> None:
    dialog.json.selectAll()
    QTest.keyClick(dialog.json, Qt.Key.Key_Delete)
    QTest.keyClicks(dialog.json, text)


@pytest.mark.asyncio
async def test_an_editor_per_type_with_required_and_defaults(org: Org, window: QWidget) -> None:
    _, _, form = await org()
    dialog = open_dialog(window, form)
    assert list(dialog.editors) == [f.name for f in form.fields]
    assert isinstance(editor(dialog, "Tracking_Number__c"), QLineEdit)
    assert isinstance(editor(dialog, "Fragile__c"), QCheckBox)
    weight, packages = editor(dialog, "Weight_Kg__c"), editor(dialog, "Packages__c")
    assert isinstance(weight, NumberBox) and weight.decimals() == 2 and not weight.is_set()
    assert isinstance(packages, NumberBox) and packages.decimals() == 0
    assert packages.maximum() == 999  # precision 3, scale 0
    assert weight.maximum() == pytest.approx(999_999.99)  # precision 8, scale 2
    ship, delivered = editor(dialog, "Ship_Date__c"), editor(dialog, "Delivered_At__c")
    assert isinstance(ship, DateBox) and ship.displayFormat() == "yyyy-MM-dd"
    assert isinstance(delivered, DateBox) and "HH:mm" in delivered.displayFormat()
    assert ship.text() == "not set" and not delivered.is_set()
    # required: marked in the label (bold, with *); the others are not
    required = label_of(dialog, "Tracking_Number__c")
    assert required.text() == "Tracking Number *" and QFont(required.font()).bold()
    assert label_of(dialog, "Carrier__c").text() == "Carrier"
    assert "In Transit, Delivered or Returned" in label_of(dialog, "Status__c").toolTip()
    # defaults filled: Status 'In Transit', Packages 1, Fragile false
    assert editor(dialog, "Status__c").text() == "In Transit"
    assert packages.value() == 1 and packages.text() == "1"
    assert not editor(dialog, "Fragile__c").isChecked()
    assert dialog.texts() == {
        "Tracking_Number__c": "", "Status__c": "In Transit", "Carrier__c": "",
        "Weight_Kg__c": "", "Packages__c": "1", "Fragile__c": "false", "Ship_Date__c": "",
        "Delivered_At__c": "", "Notes__c": "",
    }  # fmt: skip
    assert orjson.loads(dialog.json.toPlainText()) == form.template()
    assert not dialog.past.isEnabled() and dialog.past.placeholderText() == "Nothing sent yet"


@pytest.mark.asyncio
async def test_typed_values_are_published(org: Org, window: QWidget) -> None:
    emu, token, form = await org()
    dialog = open_dialog(window, form, ['{"Tracking_Number__c":"OLD"}'])
    QTest.keyClicks(editor(dialog, "Tracking_Number__c"), "1Z999")
    QTest.keyClicks(editor(dialog, "Weight_Kg__c"), "2.5")
    packages = editor(dialog, "Packages__c")
    packages.lineEdit().selectAll()
    QTest.keyClicks(packages, "3")
    QTest.mouseClick(editor(dialog, "Fragile__c"), Qt.MouseButton.LeftButton)
    QTest.keyClicks(editor(dialog, "Ship_Date__c"), "20261201")  # digits, section by section
    QTest.keyClicks(editor(dialog, "Delivered_At__c"), "20261202103005")
    local = QDateTime(QDate(2026, 12, 2), QTime(10, 30, 5))
    utc = local.toUTC().toString("yyyy-MM-ddTHH:mm:ss.zzzZ")
    dialog.activateWindow()  # a shortcut works in the active window
    await wait_until(dialog.isActiveWindow)
    QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == 1 and not dialog.isVisible()
    payload = dialog.value()
    assert payload == {
        "Tracking_Number__c": "1Z999", "Status__c": "In Transit", "Weight_Kg__c": 2.5,
        "Packages__c": 3, "Fragile__c": True, "Ship_Date__c": "2026-12-01",
        "Delivered_At__c": utc,
    }  # fmt: skip
    history = dialog.history()
    assert history == [orjson.dumps(payload).decode(), '{"Tracking_Number__c":"OLD"}']
    # Salesforce (the emulator) takes it, and its answer is said with the EventUuid
    assert isinstance(payload, dict)
    result = await publish_event(emu.url, token, EVENT, payload)
    outcome = publish_outcome(result, form.channel)
    assert outcome.ok and result.event_uuid
    assert outcome.summary == f"Published to /event/{EVENT}: EventUuid {result.event_uuid}"
    assert "OPERATION_ENQUEUED" in outcome.detail


@pytest.mark.asyncio
async def test_every_problem_at_once_and_clearing_a_value(org: Org, window: QWidget) -> None:
    emu, token, form = await org()
    dialog = open_dialog(window, form)
    QTest.keyClicks(editor(dialog, "Carrier__c"), "C" * 41)
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.errors.isVisible()
    assert dialog.errors.text().splitlines() == [
        "Tracking Number: required",
        "Carrier: at most 40 characters",
    ]
    # the errors follow the fields as they are mended
    QTest.keyClicks(editor(dialog, "Tracking_Number__c"), "T-1")
    assert dialog.errors.text() == "Carrier: at most 40 characters"
    QTest.keyClick(editor(dialog, "Carrier__c"), Qt.Key.Key_Backspace)
    assert not dialog.errors.isVisible()
    # a number and a date cleared (the clear button, the Delete key): left out
    packages = dialog.editors["Packages__c"]
    QTest.mouseClick(packages.clear_button, Qt.MouseButton.LeftButton)
    assert packages.text() == "" and packages.editor.text() == ""
    date = editor(dialog, "Ship_Date__c")
    QTest.keyClicks(date, "20261201")
    date.lineEdit().selectAll()
    QTest.keyClick(date, Qt.Key.Key_Delete)
    assert not date.is_set() and date.text() == "not set"
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.value() == {
        "Tracking_Number__c": "T-1", "Status__c": "In Transit", "Carrier__c": "C" * 40,
        "Fragile__c": False,
    }  # fmt: skip
    # Salesforce applies the default of what was left out
    assert (await publish_event(emu.url, token, EVENT, dialog.value())).success  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_the_json_tab_both_ways(org: Org, window: QWidget) -> None:
    _, _, form = await org()
    dialog = open_dialog(window, form)
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.errors.text() == "Tracking Number: required"
    QTest.keyClicks(editor(dialog, "Tracking_Number__c"), "J-1")
    QTest.keyClicks(editor(dialog, "Weight_Kg__c"), "1.25")
    QTest.keyClicks(editor(dialog, "Carrier__c"), "C" * 41)
    assert dialog.errors.text() == "Carrier: at most 40 characters"
    switch_tab(dialog, JSON_TAB)  # the JSON tab says its own problems, not the form's
    assert not dialog.errors.isVisible()
    assert dialog.json_status.text() == "Carrier: at most 40 characters"
    switch_tab(dialog, 0)
    editor(dialog, "Carrier__c").clear()
    switch_tab(dialog, JSON_TAB)
    data = orjson.loads(dialog.json.toPlainText())
    assert data == {**form.template(), "Tracking_Number__c": "J-1", "Weight_Kg__c": 1.25}
    assert dialog.json_status.text().startswith("Valid.")
    # validated as typed: every problem at once
    set_json(
        dialog,
        '{"Tracking_Number__c": null, "Packages__c": "many", "Fragile__c": 1, '
        '"Ship_Date__c": "01/12/2026", "Bogus__c": 1}',
    )
    assert dialog.json_status.text().splitlines() == [
        f"Bogus__c: {EVENT} has no such field",
        "Tracking Number: required",
        'Packages: a number, not "many"',
        "Fragile: true or false, not 1",
        "Ship Date: a date is YYYY-MM-DD",
    ]
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # not sent
    set_json(dialog, '{"Tracking_Number__c": "J-2", "Bogus__c": 1, ')
    assert dialog.json_status.text().startswith("Not JSON:")
    switch_tab(dialog, 0)  # JSON that does not parse leaves the form as it was
    assert editor(dialog, "Tracking_Number__c").text() == "J-1"
    assert "does not parse" in dialog.form_note.text() and dialog.form_note.isVisible()
    switch_tab(dialog, JSON_TAB)
    set_json(
        dialog,
        '{"Tracking_Number__c": "J-2", "Packages__c": 7, "Fragile__c": true, '
        '"Delivered_At__c": "2026-12-02T09:00:00.000Z", "Bogus__c": 1}',
    )
    switch_tab(dialog, 0)  # what parses is carried over; what does not fit is said
    assert editor(dialog, "Tracking_Number__c").text() == "J-2"
    assert editor(dialog, "Packages__c").value() == 7 and editor(dialog, "Fragile__c").isChecked()
    assert not editor(dialog, "Weight_Kg__c").is_set()  # absent from the JSON: not set
    assert dialog.editors["Delivered_At__c"].text() == "2026-12-02T09:00:00.000Z"
    assert (
        dialog.form_note.text()
        == f"Not carried over from the JSON: Bogus__c: {EVENT} has no such field"
    )
    # an edit in the form goes back into the JSON, and the unknown field stays there
    QTest.keyClicks(editor(dialog, "Carrier__c"), "UPS")
    switch_tab(dialog, JSON_TAB)
    data = orjson.loads(dialog.json.toPlainText())
    assert data["Carrier__c"] == "UPS" and data["Bogus__c"] == 1 and data["Packages__c"] == 7
    set_json(dialog, '{"Tracking_Number__c": "J-3", "Notes__c": null, "Packages__c": 2}')
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == 1
    assert dialog.value() == {"Tracking_Number__c": "J-3", "Packages__c": 2}  # null: left out


@pytest.mark.asyncio
async def test_history_picks_fill_the_form(org: Org, window: QWidget) -> None:
    _, _, form = await org()
    recent = '{"Tracking_Number__c":"H-2","Fragile__c":true,"Ship_Date__c":"2026-11-30"}'
    older = '{"Tracking_Number__c":"H-1","Packages__c":4}'
    dialog = open_dialog(window, form, [recent, older, "not json {"])
    past = dialog.past
    assert past.isEnabled() and past.currentIndex() == -1
    assert [past.itemText(i) for i in range(past.count())] == [recent, older, "not json {"]
    past.setFocus()
    QTest.keyClick(past, Qt.Key.Key_Down)  # the most recent first
    assert editor(dialog, "Tracking_Number__c").text() == "H-2"
    assert editor(dialog, "Fragile__c").isChecked()
    assert editor(dialog, "Ship_Date__c").date() == QDate(2026, 11, 30)
    assert not editor(dialog, "Packages__c").is_set()  # not in that payload
    QTest.keyClick(past, Qt.Key.Key_Down)
    assert editor(dialog, "Tracking_Number__c").text() == "H-1"
    assert (
        editor(dialog, "Packages__c").value() == 4 and not editor(dialog, "Fragile__c").isChecked()
    )
    assert orjson.loads(dialog.json.toPlainText()) == orjson.loads(older)
    QTest.keyClick(past, Qt.Key.Key_Down)  # an entry that is not JSON: kept for mending
    assert dialog.json.toPlainText() == "not json {"
    assert editor(dialog, "Tracking_Number__c").text() == "H-1"
    QTest.keyClick(past, Qt.Key.Key_Up)
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    # the form sends every checkbox: this payload is new, and goes first
    sent = {"Tracking_Number__c": "H-1", "Packages__c": 4, "Fragile__c": False}
    assert dialog.value() == sent
    assert dialog.history() == [orjson.dumps(sent).decode(), recent, older, "not json {"]
    # one sent again as it was (from the JSON tab) moves first, without a twin
    again = open_dialog(window, form, dialog.history())
    again.past.setFocus()
    for _ in range(3):
        QTest.keyClick(again.past, Qt.Key.Key_Down)
    switch_tab(again, JSON_TAB)
    QTest.mouseClick(again.ok, Qt.MouseButton.LeftButton)
    assert again.value() == orjson.loads(older)
    assert again.history() == [older, orjson.dumps(sent).decode(), recent, "not json {"]


def test_the_history_is_bounded_and_has_no_twins() -> None:
    history = [f"p{i}" for i in range(HISTORY_SIZE)]
    assert remember(history, "p5") == ["p5", *[h for h in history if h != "p5"]]
    grown = remember(history, "new")
    assert len(grown) == HISTORY_SIZE and grown[0] == "new" and f"p{HISTORY_SIZE - 1}" not in grown


@pytest.mark.asyncio
async def test_a_generic_channel_payload_is_counted(org: Org, window: QWidget) -> None:
    emu, token, _ = await org()
    dialog = open_dialog(window, "/u/notifications", ["earlier"])
    assert dialog.tabs is None and dialog.ok.text() == "&Push"
    text = dialog.payload_text
    assert text is not None
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.errors.text() == "Enter the payload to push."
    QTest.keyClicks(text, "h")
    type_e_acute(text)
    QTest.keyClicks(text, "llo")
    assert dialog.counter.text() == "6 / 3,000 characters"  # é is two bytes on the wire
    text.setPlainText("x" * 2999)
    QTest.keyClick(text, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    type_e_acute(text)
    assert dialog.counter.text() == "3,001 / 3,000 characters"
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.errors.text().startswith(
        "A push payload is at most 3,000 characters: this one has 3,001"
    )
    QTest.keyClick(text, Qt.Key.Key_Backspace)
    QTest.keyClicks(text, "y")
    assert dialog.counter.text() == "3,000 / 3,000 characters"
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == 1 and dialog.value() == "x" * 2999 + "y"
    assert dialog.history() == ["x" * 2999 + "y", "earlier"]
    # the emulator takes exactly that much, and the answer is said
    result = await push_generic(emu.url, token, "/u/notifications", str(dialog.value()))
    outcome = publish_outcome(result, "/u/notifications")
    assert outcome.ok and outcome.summary.startswith("Pushed to /u/notifications: ")
    # history picks fill the payload
    again = open_dialog(window, "/u/notifications", ["earlier"])
    again.past.setFocus()
    QTest.keyClick(again.past, Qt.Key.Key_Down)
    assert again.payload_text is not None and again.payload_text.toPlainText() == "earlier"


@pytest.mark.asyncio
async def test_refusals_are_said_in_salesforces_words(org: Org) -> None:
    emu, token, form = await org()
    with pytest.raises(PublishError) as refused:
        await publish_event(emu.url, token, EVENT, {"Carrier__c": "UPS"})
    outcome = publish_outcome(refused.value, form.channel)
    assert not outcome.ok
    assert outcome.summary.startswith(f"Publish to /event/{EVENT} refused: REQUIRED_FIELD_MISSING")
    with pytest.raises(PublishError) as missing:
        await push_generic(emu.url, token, "/u/nobody", "hi")
    assert publish_outcome(missing.value, "/u/nobody").summary.startswith(
        "Publish to /u/nobody refused: NOT_FOUND: no StreamingChannel named /u/nobody"
    )
    await emu.stop()
    with pytest.raises(TransportError) as down:
        await publish_event(emu.url, token, EVENT, {"Tracking_Number__c": "x"})
    said = publish_outcome(down.value, form.channel)
    assert not said.ok and said.summary.startswith(f"Publish to /event/{EVENT} failed: ")


@pytest.mark.asyncio
async def test_awaited_the_windows_way(org: Org, qtbot: Any, tmp_path: Path) -> None:
    _, _, form = await org()
    dialogs = Dialogs(None, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = PublishDialog(form, production=True)
    qtbot.addWidget(dialog)
    answer = asyncio.ensure_future(dialogs.run(dialog))
    await wait_until(dialog.isVisible)
    assert any("Production org" in w.text() for w in dialog.findChildren(QLabel))
    QTest.keyClicks(editor(dialog, "Tracking_Number__c"), "W-1")
    QTest.keyClick(editor(dialog, "Tracking_Number__c"), Qt.Key.Key_Return)
    assert await answer == 1
    assert dialog.value()["Tracking_Number__c"] == "W-1"  # type: ignore[index]


def test_a_utc_time_from_json_is_shown_in_local_time(window: QWidget) -> None:
    form = EventForm("T__e", "T", (FieldSpec("At__c", "At", "datetime", required=False),))
    dialog = open_dialog(window, form)
    dialog.editors["At__c"].set_value("2026-06-01T12:00:00.000Z")
    shown = editor(dialog, "At__c").dateTime()
    assert shown.toUTC() == QDateTime(QDate(2026, 6, 1), QTime(12, 0), QTimeZone.utc())
    assert dialog.texts() == {"At__c": "2026-06-01T12:00:00.000Z"}


def test_a_picklist_is_a_choice_and_an_old_value_is_kept(window: QWidget) -> None:
    spec = FieldSpec("Region__c", "Region", "picklist", required=False, picklist=("EU", "US"))
    form = EventForm("P__e", "P", (spec,))
    dialog = open_dialog(window, form, ['{"Region__c": "APAC"}'])
    combo = editor(dialog, "Region__c")
    assert [combo.itemText(i) for i in range(combo.count())] == ["not set", "EU", "US"]
    assert dialog.texts() == {"Region__c": ""}
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert dialog.texts() == {"Region__c": "EU"}
    dialog.past.setFocus()
    QTest.keyClick(dialog.past, Qt.Key.Key_Down)  # a value no longer listed: kept, and refused
    assert dialog.texts() == {"Region__c": "APAC"}
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.errors.text() == "Region: one of EU, US"
