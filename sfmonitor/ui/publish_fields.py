"""One editor per field of a publish form, chosen by the field's type.

Each editor gives back text for ``EventForm.payload`` ("" = left out, so that Salesforce
applies its default) and takes a JSON value (``None`` = left out). Numbers, dates and
times can be "not set", which a plain spin box or date edit cannot: an empty number is not
set, a date shows "not set" at its minimum, and the clear button beside them clears them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QWidget,
)

from sfmonitor.discovery import FieldSpec
from sfmonitor.discovery.forms import NUMBER_TYPES

MAX_DIGITS = 15  # beyond 15 significant digits a double (and so a spin box) is not exact
UNSET_DATE = QDate(1700, 1, 1)
UNSET = "not set"


class NumberBox(QDoubleSpinBox):
    """A spin box whose empty text means "not set" (its minimum, one step below the
    lowest real value)."""

    def textFromValue(self, value: float) -> str:
        return "" if value <= self.minimum() else super().textFromValue(value)

    def valueFromText(self, text: str) -> float:
        return self.minimum() if not text.strip() else super().valueFromText(text)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if not text.strip():
            return (QValidator.State.Acceptable, text, pos)
        return super().validate(text, pos)

    def stepBy(self, steps: int) -> None:
        if not self.is_set():  # stepping from "not set" starts at zero, not the minimum
            self.setValue(max(0.0, self.minimum() + self.singleStep()))
            return
        super().stepBy(steps)

    def is_set(self) -> bool:
        return self.value() > self.minimum()

    def unset(self) -> None:
        self.setValue(self.minimum())


class DateBox(QDateTimeEdit):
    """A date (or date and time) edit that can be "not set": its minimum, shown as
    ``specialValueText``. Typing a digit or stepping from "not set" starts from now."""

    def __init__(self, with_time: bool) -> None:
        super().__init__()
        self.setDisplayFormat("yyyy-MM-dd HH:mm:ss" if with_time else "yyyy-MM-dd")
        self.setCalendarPopup(True)
        self.setMinimumDateTime(QDateTime(UNSET_DATE, QTime(0, 0)))
        self.setSpecialValueText(UNSET)
        self.unset()

    def is_set(self) -> bool:
        return self.dateTime() > self.minimumDateTime()

    def unset(self) -> None:
        self.setDateTime(self.minimumDateTime())

    def _start(self) -> None:
        now = QDateTime.currentDateTime()
        self.setDateTime(QDateTime(now.date(), QTime(now.time().hour(), now.time().minute())))
        self.setSelectedSection(QDateTimeEdit.Section.YearSection)

    def stepBy(self, steps: int) -> None:
        if not self.is_set():
            self._start()
            return
        super().stepBy(steps)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.is_set() and event.text().isdigit():
            self._start()
        elif event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._all_selected():
            self.unset()
            return
        super().keyPressEvent(event)

    def _all_selected(self) -> bool:
        edit = self.lineEdit()
        return bool(edit.text()) and edit.selectedText() == edit.text()


class FieldEditor(QWidget):
    """The editor of one field; ``changed`` whenever its value changes."""

    changed = Signal()

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__()
        self.spec = spec
        self.editor = self._make()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        if isinstance(self.editor, QCheckBox):  # as small as its box: a click beside it is none
            row.addWidget(self.editor)
            row.addStretch(1)
        else:
            row.addWidget(self.editor, 1)
        if isinstance(self.editor, NumberBox | DateBox):
            self.clear_button = QToolButton()
            self.clear_button.setText("\N{MULTIPLICATION SIGN}")
            self.clear_button.setAutoRaise(True)
            self.clear_button.setToolTip("Leave out (Salesforce applies its default)")
            self.clear_button.clicked.connect(self.clear)
            row.addWidget(self.clear_button)
        self.set_value(spec.default)

    def _make(self) -> QWidget:
        spec = self.spec
        hint = f"default: {spec.default_formula}" if spec.default_formula else ""
        if spec.type == "boolean":
            box = QCheckBox()
            box.toggled.connect(lambda _on: self.changed.emit())
            return box
        if spec.type in NUMBER_TYPES:
            return self._number(hint)
        if spec.type in ("date", "datetime"):
            date = DateBox(with_time=spec.type == "datetime")
            if hint:
                date.setSpecialValueText(hint)
            date.dateTimeChanged.connect(lambda _d: self.changed.emit())
            return date
        if spec.picklist:
            combo = QComboBox()
            combo.addItem(hint or UNSET, "")
            for value in spec.picklist:
                combo.addItem(value, value)
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
            return combo
        line = QLineEdit()
        line.setPlaceholderText(hint)
        line.textChanged.connect(lambda _t: self.changed.emit())
        return line

    def _number(self, hint: str) -> NumberBox:
        spec = self.spec
        decimals = 0 if spec.type in ("int", "long") else max(spec.scale, 0)
        digits = spec.precision - decimals if spec.precision > decimals else MAX_DIGITS
        top = 10.0 ** min(digits, MAX_DIGITS) - 10.0**-decimals
        step = 10.0**-decimals
        box = NumberBox()
        box.setDecimals(decimals)
        box.setRange(-top - step, top)
        box.setSingleStep(1.0)
        box.setGroupSeparatorShown(False)
        box.lineEdit().setPlaceholderText(hint or UNSET)
        box.unset()
        box.valueChanged.connect(lambda _v: self.changed.emit())
        return box

    # --- values -----------------------------------------------------------------------------

    def text(self) -> str:
        """What ``EventForm.payload`` takes for this field ("" = left out)."""
        editor = self.editor
        if isinstance(editor, QCheckBox):
            return "true" if editor.isChecked() else "false"
        if isinstance(editor, NumberBox):
            return f"{editor.value():.{editor.decimals()}f}" if editor.is_set() else ""
        if isinstance(editor, DateBox):
            if not editor.is_set():
                return ""
            if self.spec.type == "date":
                return editor.date().toString("yyyy-MM-dd")
            return editor.dateTime().toUTC().toString(Qt.DateFormat.ISODateWithMs)
        if isinstance(editor, QComboBox):
            return str(editor.currentData() or "")
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def set_value(self, value: Any) -> None:
        """Show a JSON value (None: not set); ValueError when it does not fit the field."""
        editor = self.editor
        if isinstance(editor, QCheckBox):
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{self.spec.label}: true or false")
            editor.setChecked(bool(value))
        elif isinstance(editor, NumberBox):
            self._set_number(editor, value)
        elif isinstance(editor, DateBox):
            self._set_date(editor, value)
        elif isinstance(editor, QComboBox):
            self._set_choice(editor, value)
        else:
            assert isinstance(editor, QLineEdit)
            editor.setText("" if value is None else _as_text(value, self.spec.label))

    def clear(self) -> None:
        self.set_value(None)

    def _set_number(self, editor: NumberBox, value: Any) -> None:
        if value is None:
            editor.unset()
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.spec.label}: {value!r} is not a number")
        if not editor.minimum() < value <= editor.maximum():
            raise ValueError(f"{self.spec.label}: {value} does not fit")
        editor.setValue(float(value))

    def _set_date(self, editor: DateBox, value: Any) -> None:
        if value is None:
            editor.unset()
            return
        text = str(value)
        if self.spec.type == "date":
            date = QDate.fromString(text, "yyyy-MM-dd")
            if not isinstance(value, str) or not date.isValid():
                raise ValueError(f"{self.spec.label}: a date is YYYY-MM-DD")
            editor.setDate(date)
            return
        when = QDateTime.fromString(text, Qt.DateFormat.ISODateWithMs)
        if not isinstance(value, str) or not when.isValid():
            raise ValueError(f"{self.spec.label}: a time is YYYY-MM-DDTHH:MM:SSZ")
        editor.setDateTime(when.toLocalTime())

    def _set_choice(self, editor: QComboBox, value: Any) -> None:
        text = "" if value is None else _as_text(value, self.spec.label)
        index = editor.findData(text)
        if index < 0:  # a value from history that is no longer listed: kept, and flagged
            editor.addItem(text, text)
            index = editor.count() - 1
        editor.setCurrentIndex(index)


def _as_text(value: Any, label: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise ValueError(f"{label}: a single value, not {type(value).__name__}")
    return str(value)
