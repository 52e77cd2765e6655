"""Small form pieces the dialogs share: an inline error line, a secret field."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from .palette import ERROR


def error_label() -> QLabel:
    """A red, wrapping, plain-text line (server words are never markup), hidden until set."""
    label = QLabel()
    label.setStyleSheet(f"color: {ERROR}")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def show_error(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def secret_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def note_label(text: str = "") -> QLabel:
    """A wrapping plain-text note."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
