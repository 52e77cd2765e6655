"""The View and Help menus.

View: the table's columns (the chooser), the timeline strip and the detail pane (shown or
not, kept app-wide), and the theme (light, dark, or the system's; kept too; ``sfmonitor
--theme`` overrides it for one run). Help: the keyboard shortcuts (a dialog listing every
shortcut of the window), the log folder, and About (the versions of sfmonitor, Qt and
Python). Every dialog is awaited through ``modal.Dialogs``: no nested event loop.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

import PySide6
from PySide6.QtCore import QObject, QUrl, Slot, qVersion
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import sfmonitor

from .theme import THEMES, apply_theme, theme_manager

if TYPE_CHECKING:
    from .columns_flow import ColumnsFlow
    from .main_window import MainWindow

# Shortcuts that belong to a part of the window, not to a menu action
CONTEXT_SHORTCUTS = (
    ("Clear the filter (in the filter field)", "Esc"),
    ("Remove the selected channels (in the channel list)", "Del"),
    ("Find in the JSON (in the detail pane)", "Ctrl+F"),
    ("Next / previous match", "F3 or Enter / Shift+F3 or Shift+Enter"),
    ("Close the find bar", "Esc"),
    ("Clear the time range dragged (on the timeline)", "Esc"),
    ("Zoom the timeline / show all of it", "Wheel / double-click"),
)
THEME_LABELS = {"light": "&Light", "dark": "&Dark", "system": "&System"}


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(what, keys) for every action of the window with a shortcut, then the shortcuts of
    its parts: read from the actions themselves, so the list cannot drift."""
    rows: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "")
        if keys and text and text not in rows:
            rows[text] = keys
    return sorted(rows.items(), key=lambda r: r[0].lower()) + list(CONTEXT_SHORTCUTS)


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for number, (what, keys) in enumerate(rows):
            self.table.setItem(number, 0, QTableWidgetItem(what))
            self.table.setItem(number, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnToContents(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 520)

    def rows(self) -> list[tuple[str, str]]:
        out = []
        for number in range(self.table.rowCount()):
            what, keys = self.table.item(number, 0), self.table.item(number, 1)
            out.append((what.text() if what else "", keys.text() if keys else ""))
        return out


def about_text() -> tuple[str, str]:
    versions = (
        f"Qt {qVersion()} (PySide6 {PySide6.__version__}), "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )
    return f"sfmonitor {sfmonitor.__version__}", versions


class ViewMenus(QObject):
    """Builds the View and Help menus of ``window`` and carries out their actions. A child
    of the window: its connection to the application's theme goes with the window."""

    def __init__(self, window: MainWindow, columns: ColumnsFlow) -> None:
        super().__init__(window)
        self.w = window
        action = window._action
        self.columns_action = action("&Columns…", "", "Ctrl+Shift+C")
        self.timeline_action = self._toggle(
            action("&Timeline", "", "Ctrl+Shift+T"), "view/timeline", window.timeline
        )
        self.detail_action = self._toggle(
            action("&Detail", "", "Ctrl+Shift+D"), "view/detail", window.detail
        )
        self.theme_group = QActionGroup(window)
        self.theme_actions: dict[str, QAction] = {}
        current = theme_manager().name
        for name in THEMES:
            item = action(THEME_LABELS[name])
            item.setCheckable(True)
            item.setChecked(name == current)
            item.triggered.connect(lambda _on=False, n=name: self.set_theme(n))
            self.theme_group.addAction(item)
            self.theme_actions[name] = item
        self.shortcuts_action = action(
            "&Keyboard shortcuts", "", QKeySequence.StandardKey.HelpContents
        )
        self.log_action = action("Open the &log folder")
        self.about_action = action("&About sfmonitor")
        self.columns_action.triggered.connect(lambda: window.tasks.spawn(columns.choose()))
        self.shortcuts_action.triggered.connect(lambda: window.tasks.spawn(self.show_shortcuts()))
        self.log_action.triggered.connect(lambda: window.tasks.spawn(self.open_log_folder()))
        self.about_action.triggered.connect(lambda: window.tasks.spawn(self.about()))
        self._menus()
        theme_manager().changed.connect(self.restyle)

    @Slot(bool)
    def restyle(self, _dark: bool = False) -> None:
        """Colours the window keeps in items and style sheets, in the new scheme (widgets
        that paint with ``colors()`` repaint on their own)."""
        w = self.w
        current = self.theme_actions.get(theme_manager().name)
        if current is not None:
            current.setChecked(True)  # whoever switched it
        w.status.restyle()
        w.filter_bar.restyle()
        w.sidebar.repaint_all()
        w.model.colors_changed()

    def _toggle(self, item: QAction, key: str, widget: QWidget) -> QAction:
        """A checkable action showing ``widget``, its state kept app-wide under ``key``."""
        shown = bool(self.w.settings.value(key, True, type=bool))
        item.setCheckable(True)
        item.setChecked(shown)
        widget.setVisible(shown)
        item.toggled.connect(widget.setVisible)
        item.toggled.connect(lambda on: self.w.settings.setValue(key, on))
        return item

    def _menus(self) -> None:
        bar = self.w.menuBar()
        self.view_menu = bar.addMenu("&View")
        for item in (self.columns_action, self.timeline_action, self.detail_action):
            self.view_menu.addAction(item)
        theme = self.view_menu.addMenu("T&heme")
        for item in self.theme_actions.values():
            theme.addAction(item)
        self.help_menu = bar.addMenu("&Help")
        for item in (self.shortcuts_action, self.log_action):
            self.help_menu.addAction(item)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.about_action)

    # --- actions ---------------------------------------------------------------------------

    def set_theme(self, name: str) -> None:
        """Apply a theme now and keep it for the next start."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, name)
        self.w.settings.setValue("view/theme", name)
        self.theme_actions[name].setChecked(True)

    async def show_shortcuts(self) -> None:
        dialog = ShortcutsDialog(shortcut_rows(self.w), self.w)
        try:
            await self.w.dialogs.run(dialog)
        finally:
            dialog.deleteLater()

    def log_folder(self) -> Path:
        return Path(self.w.store.path).parent / "logs"

    async def open_log_folder(self) -> None:
        folder = self.log_folder()
        if not folder.is_dir() or not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            await self.w.dialogs.inform(
                "Log folder", "The log folder could not be opened here.", str(folder)
            )

    async def about(self) -> None:
        title, versions = about_text()
        text = f"{title}\nA monitor for Salesforce event streams."
        await self.w.dialogs.inform("About sfmonitor", text, versions)
