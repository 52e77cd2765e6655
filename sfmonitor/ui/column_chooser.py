"""View → Columns: which columns the events table shows, in which order, and payload
fields added as columns (the filter language's field paths).

The chooser only edits a list of ``ColumnSpec``; the caller applies it to the table and
persists it per profile (``columns_to_text`` / ``columns_from_text``: a damaged setting
gives the default columns, never an error at start-up).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.store.errors import FilterError
from sfmonitor.store.field_columns import check_path

from .events_model import COLUMNS
from .modal import Dialogs
from .theme import colors

log = logging.getLogger(__name__)
FIELD = "field:"
SPEC_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class ColumnSpec:
    """A column: a fixed one (``key`` of ``events_model.COLUMNS``) or a payload field
    (``key`` is ``field:<path>``)."""

    key: str
    title: str
    visible: bool = True

    @property
    def field_path(self) -> str | None:
        return self.key[len(FIELD) :] if self.key.startswith(FIELD) else None


def fixed_columns() -> list[ColumnSpec]:
    return [ColumnSpec(key, title) for title, key in COLUMNS]


def field_column(path: str) -> ColumnSpec:
    """A payload field's column (FilterError for a path the filter language refuses)."""
    path = check_path(path)
    return ColumnSpec(FIELD + path, path)


def with_field(columns: list[ColumnSpec], path: str) -> list[ColumnSpec]:
    """``columns`` with the field shown (added at the end, or made visible)."""
    column = field_column(path)
    if any(c.key == column.key for c in columns):
        return [replace(c, visible=True) if c.key == column.key else c for c in columns]
    return [*columns, column]


def columns_to_text(columns: list[ColumnSpec]) -> str:
    return json.dumps([{"key": c.key, "visible": c.visible} for c in columns])


def columns_from_text(text: object) -> list[ColumnSpec]:
    """Columns read back from settings. Unknown or damaged entries are left out, fixed
    columns missing from the list come back (shown) at the end."""
    try:
        items = json.loads(text) if isinstance(text, str) and text else []
    except ValueError as exc:
        log.warning("table columns in the settings are not JSON (%s); defaults used", exc)
        items = []
    fixed = {c.key: c for c in fixed_columns()}
    out: list[ColumnSpec] = []
    for item in items if isinstance(items, list) else []:
        key = item.get("key") if isinstance(item, dict) else None
        visible = bool(item.get("visible", True)) if isinstance(item, dict) else True
        column: ColumnSpec | None = fixed.get(key) if isinstance(key, str) else None
        if column is None and isinstance(key, str) and key.startswith(FIELD):
            try:
                column = field_column(key[len(FIELD) :])
            except FilterError:
                log.warning("table column %r in the settings left out: not a field path", key)
        if column is not None and all(c.key != column.key for c in out):
            out.append(replace(column, visible=visible))
    out += [c for c in fixed.values() if all(o.key != c.key for o in out)]
    if not any(c.visible for c in out):
        out = [replace(c, visible=True) for c in out]
    return out


class ColumnChooser(QDialog):
    """Show or hide, reorder (buttons or drag), add and remove field columns."""

    def __init__(self, columns: list[ColumnSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Columns")
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.currentRowChanged.connect(lambda _row: self._update())
        self.list.itemChanged.connect(lambda _item: self._update())
        self.up = QPushButton("Up")
        self.down = QPushButton("Down")
        self.remove = QPushButton("Remove")
        self.reset = QPushButton("Defaults")
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(1))
        self.remove.clicked.connect(self._remove)
        self.reset.clicked.connect(lambda: self.set_columns(fixed_columns()))
        self.path = QLineEdit()
        self.path.setPlaceholderText("Payload field, e.g. Amount__c or sobject.Name")
        self.add = QPushButton("Add field")
        self.add.clicked.connect(self._add)
        self.path.returnPressed.connect(self._add)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout()
        self.set_columns(columns)

    def _layout(self) -> None:
        side = QVBoxLayout()
        for button in (self.up, self.down, self.remove, self.reset):
            side.addWidget(button)
        side.addStretch()
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(side)
        adding = QHBoxLayout()
        adding.addWidget(self.path, 1)
        adding.addWidget(self.add)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tick the columns to show; drag or use Up and Down to order them."))
        layout.addLayout(body)
        layout.addLayout(adding)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def set_columns(self, columns: list[ColumnSpec]) -> None:
        self.list.clear()
        for column in columns:
            self._append(column)
        self.list.setCurrentRow(0)
        self._update()

    def _append(self, column: ColumnSpec) -> QListWidgetItem:
        label = column.title if column.field_path is None else f"{column.title}  (payload field)"
        item = QListWidgetItem(label)
        item.setData(SPEC_ROLE, column)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsDragEnabled
        )
        item.setCheckState(Qt.CheckState.Checked if column.visible else Qt.CheckState.Unchecked)
        self.list.addItem(item)
        return item

    def columns(self) -> list[ColumnSpec]:
        """The columns as chosen, in order."""
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            spec: ColumnSpec = item.data(SPEC_ROLE)
            out.append(replace(spec, visible=item.checkState() == Qt.CheckState.Checked))
        return out

    def _current(self) -> ColumnSpec | None:
        item = self.list.currentItem()
        spec: ColumnSpec | None = item.data(SPEC_ROLE) if item is not None else None
        return spec

    def _move(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    def _remove(self) -> None:
        current = self._current()
        if current is not None and current.field_path is not None:
            self.list.takeItem(self.list.currentRow())
            self._update()

    def _add(self) -> None:
        try:
            column = field_column(self.path.text())
        except FilterError as exc:
            self._show_error(exc.message)
            return
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(SPEC_ROLE).key == column.key:
                item.setCheckState(Qt.CheckState.Checked)
                self.list.setCurrentRow(i)
                break
        else:
            self.list.setCurrentItem(self._append(column))
        self.path.clear()
        self._update()

    def _show_error(self, text: str) -> None:
        self.error.setStyleSheet(f"color: {colors().error}")
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _update(self) -> None:
        """Buttons that apply; OK only with a column shown."""
        row, current = self.list.currentRow(), self._current()
        self.up.setEnabled(row > 0)
        self.down.setEnabled(0 <= row < self.list.count() - 1)
        self.remove.setEnabled(current is not None and current.field_path is not None)
        shown = any(c.visible for c in self.columns())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(shown)
        self._show_error("" if shown else "Show at least one column.")


async def choose_columns(dialogs: Dialogs, columns: list[ColumnSpec]) -> list[ColumnSpec] | None:
    """Open the chooser (awaited, no nested event loop); the new columns, or None."""
    dialog = ColumnChooser(columns, dialogs.parent)
    try:
        return dialog.columns() if await dialogs.run(dialog) else None
    finally:
        dialog.deleteLater()


def visible_fields(columns: list[ColumnSpec]) -> list[str]:
    """The field paths of the shown field columns, in order (for ``field_values``)."""
    return [c.field_path for c in columns if c.visible and c.field_path is not None]
