"""The detail pane's JSON view: pretty or raw, highlighted, with the field under the
cursor named as the filter language names it (copy its value or its path, add it as a
table column) and a find bar (Ctrl+F; Enter / F3 next, Shift+Enter / Shift+F3 previous).

Plain text only: a payload is never interpreted as markup. Where each value sits in the
text is found by a small scanner (``spans``) that records positions as it reads the JSON
shown, pretty or raw alike (``json_paths``); it runs when first needed, not on every
event shown.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontDatabase,
    QKeySequence,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .json_paths import STRING, Node, filter_path, json_path, node_at, pretty, spans
from .theme import colors

# 15- or 18-character Salesforce ids: a 3-character key prefix, then letters and digits
RECORD_ID = re.compile(r'"((?:[a-zA-Z0-9]{2}[0-9A-Z])[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?)"')
KEY = re.compile(r'"(?:[^"\\]|\\.)*"(?=\s*:)')
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
LITERAL = re.compile(r"\b(?:true|false|null)\b")
MAX_MATCHES = 2000  # find: matches highlighted at once
MAX_SCANNED = 5_000_000  # characters: a larger message has no field paths (copy it whole)


# --- highlighting ----------------------------------------------------------------------------


class JsonHighlighter(QSyntaxHighlighter):
    """JSON in the theme's colours (``restyle`` after a theme change)."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        self.restyle()

    def restyle(self) -> None:
        scheme = colors()
        for name, color, bold in (
            ("string", scheme.json_string, False),
            ("key", scheme.json_key, True),
            ("number", scheme.json_number, False),
            ("literal", scheme.json_literal, False),
            ("record_id", scheme.json_record_id, True),
        ):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            if bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            self.formats[name] = fmt
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        strings = [(m.start(), m.end()) for m in STRING.finditer(text)]
        starts = [start for start, _end in strings]

        def in_string(position: int) -> bool:
            i = bisect.bisect_right(starts, position) - 1
            return i >= 0 and position < strings[i][1]

        for start, end in strings:
            self.setFormat(start, end - start, self.formats["string"])
        for name, pattern in (("number", NUMBER), ("literal", LITERAL)):
            for match in pattern.finditer(text):
                if not in_string(match.start()):  # "2026-12-02..." stays a string
                    self.setFormat(match.start(), match.end() - match.start(), self.formats[name])
        for match in KEY.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.formats["key"])
        for match in RECORD_ID.finditer(text):
            self.setFormat(match.start(1), len(match.group(1)), self.formats["record_id"])


# --- the view --------------------------------------------------------------------------------


class JsonView(QWidget):
    """A message as JSON: pretty or raw, find, and the field under the cursor."""

    add_column_requested = Signal(str)  # a filter field path

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("Select an event to see it whole")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.text.customContextMenuRequested.connect(self._menu)
        self.text.cursorPositionChanged.connect(self._cursor_moved)
        self.highlighter = JsonHighlighter(self.text.document())
        self.field = QLabel()  # the path under the cursor
        self.field.setTextFormat(Qt.TextFormat.PlainText)
        self._raw: str | None = None
        self._message: Any = None
        self._nodes: list[Node] | None = None  # found when first needed
        self._matches: list[int] = []
        self._current = -1
        self._filling = False
        self._make_buttons()
        self._make_find_bar()
        self._make_actions()
        self._layout()
        self._cursor_moved()

    def _button(self, text: str, tip: str, checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        button.setAutoRaise(True)
        return button

    def _make_buttons(self) -> None:
        self.pretty_button = self._button("Pretty", "Indented JSON", checkable=True)
        self.raw_button = self._button("Raw", "The message as it was received", checkable=True)
        self.pretty_button.setChecked(True)
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.pretty_button)
        self.mode.addButton(self.raw_button)
        self.mode.buttonToggled.connect(self._mode_toggled)
        self.copy_value_button = self._button("Copy value", "Copy the value under the cursor")
        self.copy_path_button = self._button("Copy path", "Copy the field path under the cursor")
        self.add_column_button = self._button("Add as column", "Show this field as a column")
        self.copy_json_button = self._button("Copy JSON", "Copy the whole message")
        self.find_button = self._button("Find", "Find in the JSON (Ctrl+F)")
        self.copy_value_button.clicked.connect(self.copy_value)
        self.copy_path_button.clicked.connect(self.copy_path)
        self.add_column_button.clicked.connect(self.add_column)
        self.copy_json_button.clicked.connect(
            lambda: QApplication.clipboard().setText(self.text.toPlainText())
        )
        self.find_button.clicked.connect(self.open_find)

    def _make_find_bar(self) -> None:
        self.find_text = QLineEdit()
        self.find_text.setPlaceholderText("Find in the JSON")
        self.find_text.setClearButtonEnabled(True)
        self.find_text.textChanged.connect(lambda _t: self._search())
        self.find_text.returnPressed.connect(self.find_next)
        self.find_count = QLabel()
        self.previous_button = self._button("Previous", "Previous match (Shift+F3)")
        self.next_button = self._button("Next", "Next match (F3)")
        self.close_find_button = self._button("Close", "Close the find bar (Esc)")
        self.previous_button.clicked.connect(self.find_previous)
        self.next_button.clicked.connect(self.find_next)
        self.close_find_button.clicked.connect(self.close_find)
        self.find_bar = QWidget()
        row = QHBoxLayout(self.find_bar)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.find_text, self.find_count, self.previous_button, self.next_button):
            row.addWidget(widget)
        row.addWidget(self.close_find_button)
        self.find_bar.hide()

    def _make_actions(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (
            (QKeySequence.StandardKey.Find, self.open_find),
            (QKeySequence.StandardKey.FindNext, self.find_next),
            (QKeySequence.StandardKey.FindPrevious, self.find_previous),
            (QKeySequence(Qt.Key.Key_Escape), self.close_find),
            (QKeySequence("Shift+Return"), self.find_previous),
        ):
            action = QAction(self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(context)
            action.triggered.connect(slot)
            self.addAction(action)
            if slot == self.open_find:
                self.find_action = action  # a window with its own Find turns this one off

    def _layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        for button in (self.pretty_button, self.raw_button):
            header.addWidget(button)
        tools = QHBoxLayout()
        tools.addWidget(self.field, 1)
        for button in (
            self.copy_value_button,
            self.copy_path_button,
            self.add_column_button,
            self.find_button,
            self.copy_json_button,
        ):
            tools.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.text, 1)
        layout.addLayout(tools)

    # --- what is shown ---------------------------------------------------------------------

    def show_event(self, title: str, raw: str | None) -> None:
        """Show a message (``raw``: its JSON as stored; None: nothing)."""
        self.title.setText(title)
        self._raw = raw
        try:
            self._message = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):
            self._message = None
        self._fill()

    def _mode_toggled(self, _button: QToolButton, on: bool) -> None:
        if on:
            self._fill()

    @property
    def is_pretty(self) -> bool:
        return self.pretty_button.isChecked()

    def _fill(self) -> None:
        raw = self._raw
        self._nodes = None
        self._filling = True  # the cursor is at the start: no need to read the JSON yet
        try:
            self.text.setPlainText("" if raw is None else pretty(raw) if self.is_pretty else raw)
        finally:
            self._filling = False
        self.copy_json_button.setEnabled(raw is not None)
        self._search()
        self._cursor_moved()

    def nodes(self) -> list[Node]:
        """Where the values are (read once per text shown, when first asked)."""
        if self._nodes is None:
            text = self.text.toPlainText() if self._raw is not None else ""
            self._nodes = spans(text) if len(text) <= MAX_SCANNED else []
        return self._nodes

    def node(self, position: int | None = None) -> Node | None:
        """The value at ``position`` (default: the cursor, or the selection's start)."""
        if position is None:
            position = self.text.textCursor().selectionStart()
        return node_at(self.nodes(), position)

    def value_text(self, node: Node) -> str:
        """A value to copy: a string without its quotes, anything else as shown."""
        text = self.text.toPlainText()[node.start : node.end]
        if text.startswith('"'):
            try:
                return str(json.loads(text))
            except ValueError:
                return text
        return text

    def path_text(self, node: Node) -> str:
        """The filter path of ``node``, or a JSONPath where no filter path reaches it."""
        return filter_path(self._message, node.path) or json_path(node.path)

    def _cursor_moved(self) -> None:
        if self._filling:
            return
        at_start = self.text.textCursor().selectionStart() == 0
        node = self.node() if self._raw is not None and not at_start else None
        path = filter_path(self._message, node.path) if node is not None else None
        self.field.setText(f"Field: {path}" if path else "")
        self.copy_value_button.setEnabled(node is not None)
        self.copy_path_button.setEnabled(node is not None and bool(node.path))
        self.add_column_button.setEnabled(path is not None)

    # --- actions ---------------------------------------------------------------------------

    def copy_value(self) -> None:
        node = self.node()
        if node is not None:
            QApplication.clipboard().setText(self.value_text(node))

    def copy_path(self) -> None:
        node = self.node()
        if node is not None and node.path:
            QApplication.clipboard().setText(self.path_text(node))

    def add_column(self) -> None:
        node = self.node()
        path = filter_path(self._message, node.path) if node is not None else None
        if path is not None:
            self.add_column_requested.emit(path)

    def _menu(self, position: QPoint) -> None:
        """The text's own menu (copy, select all) and ours, for the value clicked on."""
        cursor = self.text.cursorForPosition(position)
        if not self.text.textCursor().hasSelection():
            self.text.setTextCursor(cursor)
        menu = self.text.createStandardContextMenu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addSeparator()
        for button in (self.copy_value_button, self.copy_path_button, self.add_column_button):
            action = menu.addAction(button.text(), button.click)
            action.setEnabled(button.isEnabled())
        menu.addAction("Find…", self.open_find)
        menu.popup(self.text.viewport().mapToGlobal(position))  # no nested event loop

    # --- find ------------------------------------------------------------------------------

    def open_find(self) -> None:
        self.find_bar.show()
        self.find_text.setFocus()
        self.find_text.selectAll()
        self._search()

    def close_find(self) -> None:
        if self.find_bar.isVisible():
            self.find_bar.hide()
            self.find_text.clear()
            self.text.setFocus()

    def _search(self) -> None:
        """Every match of the find text (case-insensitive), highlighted."""
        needle = self.find_text.text().casefold() if self.find_bar.isVisible() else ""
        self._matches, self._current = [], -1
        if needle:
            haystack = self.text.toPlainText().casefold()
            start = haystack.find(needle)
            while start >= 0 and len(self._matches) < MAX_MATCHES:
                self._matches.append(start)
                start = haystack.find(needle, start + len(needle))
        self._show_matches()

    def find_next(self) -> None:
        self._step(1)

    def find_previous(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        if not self.find_bar.isVisible():
            self.open_find()
        if not self._matches:
            return
        if self._current < 0:
            here = self.text.textCursor().selectionStart()
            after = bisect.bisect_left(self._matches, here)
            self._current = after % len(self._matches) if direction > 0 else after - 1
        else:
            self._current += direction
        self._current %= len(self._matches)
        self._show_matches()

    def _show_matches(self) -> None:
        scheme = colors()
        size = len(self.find_text.text())
        selections = []
        for i, start in enumerate(self._matches):
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(start)
            cursor.setPosition(start + size, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            current = scheme.find_current if i == self._current else scheme.find_match
            selection.format.setBackground(QColor(current))
            selections.append(selection)
            if i == self._current:
                self.text.setTextCursor(cursor)
        self.text.setExtraSelections(selections)
        if not self.find_text.text():
            self.find_count.setText("")
        elif not self._matches:
            self.find_count.setText("No match")
        else:
            shown = f"{self._current + 1} of " if self._current >= 0 else ""
            more = "+" if len(self._matches) >= MAX_MATCHES else ""
            self.find_count.setText(f"{shown}{len(self._matches)}{more}")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.restyle()  # the other scheme's colours
            self._show_matches()
        super().changeEvent(event)
