"""“Publish…”: a test event for a platform event (a form generated from its describe, or JSON
for power users) or a payload for a generic channel. The dialog returns the payload; it does
not send it: the caller publishes, shows Salesforce's answer (``publish_outcome``) and keeps
the history (given in, read back with ``history()``).

The form and the JSON tab carry values over when switching: the form's values go into the
JSON (fields the form does not know are kept), and JSON that parses fills the form. Every
problem is shown at once, under the fields, never as an exception. Ctrl+Return publishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.discovery import EventForm
from sfmonitor.discovery.publish import MAX_PUSH_PAYLOAD

from . import theme
from .publish_fields import FieldEditor
from .publish_payloads import entry_of, parse_json, pretty, remember, without_nulls

FORM_TAB, JSON_TAB = 0, 1
SUMMARY_CHARS = 90


def _label(text: str = "", color: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # labels and errors come from the org
    label.setWordWrap(True)
    if color:
        label.setStyleSheet(f"color: {color}")
    return label


def _mono(editor: QPlainTextEdit) -> QPlainTextEdit:
    editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    editor.setTabChangesFocus(True)
    return editor


def _summary(entry: str) -> str:
    line = " ".join(entry.split())
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


class PublishDialog(QDialog):
    """``target``: a platform event's form, or a generic channel's name (``/u/…``)."""

    def __init__(
        self,
        target: EventForm | str,
        history: Sequence[str] = (),
        parent: QWidget | None = None,
        *,
        production: bool = False,
    ) -> None:
        super().__init__(parent)
        self.form = target if isinstance(target, EventForm) else None
        self.channel = target.channel if isinstance(target, EventForm) else target
        self._history = list(history)
        self._payload: dict[str, Any] | str | None = None
        self._form_edited = False
        self._told = False  # problems were shown: keep them true as the fields change
        self.editors: dict[str, FieldEditor] = {}
        self.setWindowTitle(f"Publish to {self.channel}")
        self.resize(640, 620)
        layout = QVBoxLayout(self)
        title = self.form.label if self.form else "Generic streaming channel"
        heading = _label(f"{title}  ·  {self.channel}")
        font = QFont(heading.font())
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        if production:
            note = _label("Production org: every subscriber receives this event.", theme.WARNING)
            layout.addWidget(note)
        self.past = QComboBox()
        self._fill_history()
        layout.addWidget(self.past)
        self.tabs: QTabWidget | None = None
        self.payload_text: QPlainTextEdit | None = None
        if self.form is not None:
            layout.addWidget(self._event_tabs(self.form), 1)
        else:
            layout.addWidget(self._generic_editor(), 1)
        self.errors = _label(color=theme.ERROR)
        self.errors.hide()
        layout.addWidget(self.errors)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Publish" if self.form else "&Push")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, self._accept)
        self.past.activated.connect(self._pick)

    # --- building ---------------------------------------------------------------------------

    def _fill_history(self) -> None:
        self.past.clear()
        for entry in self._history:
            self.past.addItem(_summary(entry), entry)
            self.past.setItemData(self.past.count() - 1, entry, Qt.ItemDataRole.ToolTipRole)
        self.past.setPlaceholderText(
            f"Sent before: choose one to fill the {'form' if self.form else 'payload'}"
            if self._history
            else "Nothing sent yet"
        )
        self.past.setCurrentIndex(-1)
        self.past.setEnabled(bool(self._history))

    def _event_tabs(self, form: EventForm) -> QTabWidget:
        fields = QWidget()
        rows = QFormLayout(fields)
        for spec in form.fields:
            editor = FieldEditor(spec)
            label = _label(f"{spec.label} *" if spec.required else spec.label)
            if spec.required:
                bold = QFont(label.font())
                bold.setBold(True)
                label.setFont(bold)
            tip = [spec.name, f"type: {spec.type}" + (", required" if spec.required else "")]
            tip += [t for t in (spec.help,) if t]
            if spec.default_formula:
                tip.append(f"Salesforce's default: {spec.default_formula}")
            label.setToolTip("\n".join(tip))
            editor.setToolTip("\n".join(tip))
            rows.addRow(label, editor)
            editor.changed.connect(self._form_changed)
            self.editors[spec.name] = editor
        note = "Fields marked * are required; an empty field is left out (Salesforce's default)."
        rows.addRow(_label(note, theme.MUTED))
        self.form_note = _label(color=theme.WARNING)
        self.form_note.hide()
        rows.addRow(self.form_note)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(fields)
        self.json = _mono(QPlainTextEdit(pretty(form.template())))
        self.json_status = _label()
        page = QWidget()
        column = QVBoxLayout(page)
        column.addWidget(self.json, 1)
        column.addWidget(self.json_status)
        self.json.textChanged.connect(self._check_json)
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "&Form")
        self.tabs.addTab(page, "&JSON")
        self.tabs.currentChanged.connect(self._switched)
        self._check_json()
        return self.tabs

    def _generic_editor(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(_label("Payload (any text, at most 3,000 characters):"))
        self.payload_text = _mono(QPlainTextEdit())
        self.counter = _label()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        column.addWidget(self.payload_text, 1)
        column.addWidget(self.counter)
        self.payload_text.textChanged.connect(self._count)
        self._count()
        return page

    # --- what the caller reads --------------------------------------------------------------

    def value(self) -> dict[str, Any] | str:
        """The payload accepted: a JSON object for a platform event, text for a push."""
        if self._payload is None:
            raise ValueError("the dialog was not accepted")
        return self._payload

    def history(self) -> list[str]:
        """The history to keep: the accepted payload first (unchanged when cancelled)."""
        if self._payload is None:
            return list(self._history)
        return remember(self._history, entry_of(self._payload))

    def texts(self) -> dict[str, str]:
        """What the form holds, as ``EventForm.payload`` takes it."""
        return {name: editor.text() for name, editor in self.editors.items()}

    # --- form and JSON ----------------------------------------------------------------------

    def _form_changed(self) -> None:
        self._form_edited = True
        if self._told:  # after a refused Publish, the errors follow the fields
            self._show(self._problems())

    def _form_json(self) -> dict[str, Any]:
        """The form as JSON: each field's value (null when empty; the text as typed when it
        does not parse, so that nothing is lost)."""
        assert self.form is not None
        out: dict[str, Any] = {}
        for spec in self.form.fields:
            text = self.editors[spec.name].text()
            try:
                out[spec.name] = spec.coerce(text) if text.strip() else None
            except ValueError:
                out[spec.name] = text
        return out

    def _switched(self, index: int) -> None:
        self._show([])  # each tab says its own problems
        self._told = False
        if index == JSON_TAB and self._form_edited:
            data, _ = parse_json(self._need_form(), self.json.toPlainText())
            known = {name.lower() for name in self.editors}
            others = {k: v for k, v in (data or {}).items() if k.lower() not in known}
            merged = {**self._form_json(), **others}  # what the form does not know is kept
            self.json.setPlainText(pretty(merged))
            self._form_edited = False
        elif index == FORM_TAB:
            self._fill_form(self.json.toPlainText())

    def _fill_form(self, text: str) -> None:
        """JSON that parses fills the form; what does not fit a field is said so."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            self._form_note("The JSON does not parse as an object: the form kept its values.")
            return
        skipped = []
        for name, editor in self.editors.items():
            value = next((v for k, v in data.items() if k.lower() == name.lower()), None)
            try:
                editor.set_value(value)
            except ValueError as exc:
                skipped.append(str(exc))
        unknown = [k for k in data if self._need_form().field(k) is None]
        skipped += [f"{k}: {self._need_form().name} has no such field" for k in unknown]
        self._form_edited = False
        self._form_note("Not carried over from the JSON: " + "; ".join(skipped) if skipped else "")

    def _form_note(self, text: str) -> None:
        self.form_note.setText(text)
        self.form_note.setVisible(bool(text))

    def _check_json(self) -> None:
        _, problems = parse_json(self._need_form(), self.json.toPlainText())
        if problems:
            self.json_status.setText("\n".join(problems))
            self.json_status.setStyleSheet(f"color: {theme.ERROR}")
        else:
            self.json_status.setText("Valid. null leaves a field out (Salesforce's default).")
            self.json_status.setStyleSheet(f"color: {theme.LIVE}")

    def _need_form(self) -> EventForm:
        assert self.form is not None
        return self.form

    # --- history, push, accept --------------------------------------------------------------

    def _pick(self, index: int) -> None:
        entry = self.past.itemData(index)
        if not isinstance(entry, str):
            return
        if self.payload_text is not None:
            self.payload_text.setPlainText(entry)
            return
        try:
            self.json.setPlainText(pretty(orjson.loads(entry)))
        except (orjson.JSONDecodeError, TypeError):
            self.json.setPlainText(entry)  # kept as it was, for the person to mend
        self._fill_form(self.json.toPlainText())
        self._form_edited = False

    def _count(self) -> None:
        assert self.payload_text is not None
        used = len(self.payload_text.toPlainText().encode())
        self.counter.setText(f"{used:,} / {MAX_PUSH_PAYLOAD:,} characters")
        over = used > MAX_PUSH_PAYLOAD
        self.counter.setStyleSheet(f"color: {theme.ERROR if over else theme.MUTED}")

    def _problems(self) -> list[str]:
        """Every problem with the payload of the tab shown (empty: ready to send)."""
        if self.payload_text is not None:
            text = self.payload_text.toPlainText()
            used = len(text.encode())
            if not text.strip():
                return ["Enter the payload to push."]
            if used > MAX_PUSH_PAYLOAD:
                return [
                    f"A push payload is at most {MAX_PUSH_PAYLOAD:,} characters: this one has "
                    f"{used:,} (a character outside ASCII counts as two or more)."
                ]
            return []
        if self.tabs is not None and self.tabs.currentIndex() == JSON_TAB:
            return parse_json(self._need_form(), self.json.toPlainText())[1]
        try:
            self._need_form().payload(self.texts())
        except ValueError as exc:
            return str(exc).split("; ")
        return []

    def _show(self, problems: list[str]) -> None:
        self.errors.setText("\n".join(problems))
        self.errors.setVisible(bool(problems))

    def _accept(self) -> None:
        problems = self._problems()
        on_json = self.tabs is not None and self.tabs.currentIndex() == JSON_TAB
        self._show([] if on_json else problems)  # the JSON tab shows its own, as typed
        if problems:
            self._told = True
            return
        if self.payload_text is not None:
            self._payload = self.payload_text.toPlainText()
        elif self.tabs is not None and self.tabs.currentIndex() == JSON_TAB:
            self._payload = without_nulls(orjson.loads(self.json.toPlainText()))
        else:
            self._payload = self._need_form().payload(self.texts())
        self.accept()
