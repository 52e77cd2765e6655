"""The detail pane: the selected event as pretty, highlighted JSON (plain text: a payload
is never interpreted as markup), record ids in their own colour, with a copy button.
(Record ids are not underlined: they are not links.)"""

from __future__ import annotations

import json
import re

from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# 15- or 18-character Salesforce ids: a 3-character key prefix, then letters and digits
RECORD_ID = re.compile(r'"((?:[a-zA-Z0-9]{2}[0-9A-Z])[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)"')
KEY = re.compile(r'"(?:[^"\\]|\\.)*"(?=\s*:)')
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
LITERAL = re.compile(r"\b(?:true|false|null)\b")


def _format(color: str, bold: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    return fmt


class JsonHighlighter(QSyntaxHighlighter):
    STYLES = {
        "string": _format("#0a3069"),
        "key": _format("#8250df", bold=True),
        "number": _format("#0550ae"),
        "literal": _format("#cf222e"),
        "record_id": _format("#1a7f37", bold=True),
    }

    def highlightBlock(self, text: str) -> None:
        for match in STRING.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.STYLES["string"])
        for match in NUMBER.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.STYLES["number"])
        for match in LITERAL.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.STYLES["literal"])
        for match in KEY.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.STYLES["key"])
        for match in RECORD_ID.finditer(text):
            self.setFormat(match.start(1), len(match.group(1)), self.STYLES["record_id"])


def pretty(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


class DetailPane(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("Select an event to see it whole")
        self.title.setTextFormat(self.title.textFormat().PlainText)
        self.copy = QPushButton("Copy JSON")
        self.copy.setEnabled(False)
        self.copy.clicked.connect(self._copy)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = JsonHighlighter(self.text.document())
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.text)

    def show_event(self, title: str, raw: str | None) -> None:
        self.title.setText(title)
        self.text.setPlainText(pretty(raw) if raw is not None else "")
        self.copy.setEnabled(raw is not None)

    def _copy(self) -> None:
        QApplication.clipboard().setText(self.text.toPlainText())
