"""The View and Help menus (issue 18): the theme switch repaints the window (sidebar, status
bar, table, JSON), kept for the next start; `sfmonitor --theme dark` starts dark; the
detail pane can be hidden; the shortcuts, the log folder and About."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

import sfmonitor
from sfmonitor.app import build_parser
from sfmonitor.ui.main_window import MainWindow
from sfmonitor.ui.theme import DARK, LIGHT, apply_theme, colors, theme_manager
from sfmonitor.ui.view_menus import ShortcutsDialog, about_text
from tests.helpers.waiting import wait_until


def lightness(image: QImage) -> float:
    """The mean lightness of a grid of the image's pixels (0 black .. 255 white)."""
    values = [
        QColor(image.pixel(x, y)).lightness()
        for x in range(0, image.width(), 16)
        for y in range(0, image.height(), 16)
    ]
    return sum(values) / len(values)


@pytest.fixture
def light(qapp: QApplication) -> Iterator[None]:
    apply_theme(qapp, "light")
    yield
    apply_theme(qapp, "system")


@pytest.mark.asyncio
async def test_the_theme_switch_repaints_the_window(window: MainWindow, light: None) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: "live" in window.sidebar.list.item(0).text(), 20)
    await wait_until(lambda: window.model.rowCount() > 0, 20)
    window.table.selectRow(0)
    await wait_until(lambda: window.detail.json.text.toPlainText() != "")
    item = window.sidebar.list.item(0)
    assert item.foreground().color().name() == LIGHT.live
    bright = lightness(window.grab().toImage())

    window.looks.menus.theme_actions["dark"].trigger()
    assert theme_manager().dark and colors() is DARK
    assert window.settings.value("view/theme") == "dark"
    assert item.foreground().color().name() == DARK.live  # kept in the item: repainted
    assert DARK.error in window.filter_bar.error.styleSheet()
    assert DARK.production in window.status.production_label.styleSheet()
    formats = window.detail.json.highlighter.formats  # on the palette change Qt sends
    await wait_until(lambda: formats["key"].foreground().color().name() == DARK.json_key)
    dark = lightness(window.grab().toImage())
    assert dark < 100 < bright  # the whole window, not a few widgets

    window.looks.menus.theme_actions["light"].trigger()
    assert not theme_manager().dark and item.foreground().color().name() == LIGHT.live
    assert window.settings.value("view/theme") == "light"


def test_the_theme_option_starts_the_window_dark(tmp_path: Path) -> None:
    shot = tmp_path / "dark.png"
    args = ["--data-dir", str(tmp_path / "d"), "--theme", "dark", "--self-test"]
    out = subprocess.run(
        [sys.executable, "-m", "sfmonitor", *args, "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=90,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert lightness(QImage(str(shot))) < 100
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--theme", "blue"])


@pytest.mark.asyncio
async def test_the_detail_pane_can_be_hidden_and_stays_so(window: MainWindow) -> None:
    action = window.looks.menus.detail_action
    assert action.isChecked() and not window.detail.isHidden()
    action.trigger()
    assert window.detail.isHidden()
    assert window.settings.value("view/detail", type=bool) is False


@pytest.mark.asyncio
async def test_the_help_menu(window: MainWindow, tmp_path: Path) -> None:
    menus = window.looks.menus
    menus.shortcuts_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, ShortcutsDialog))
    dialog = window.dialogs.current
    assert isinstance(dialog, ShortcutsDialog)
    rows = dict(dialog.rows())
    assert rows["Add channels…"] == "Ctrl+Shift+N" and rows["Add by name…"] == "Ctrl+N"
    assert rows["Timeline"] == "Ctrl+Shift+T"
    assert "Find in the JSON (in the detail pane)" in rows
    dialog.reject()
    await wait_until(lambda: window.dialogs.current is None)

    title, versions = about_text()
    assert title == f"sfmonitor {sfmonitor.__version__}"
    assert "Qt 6." in versions and f"Python {sys.version.split()[0]}" in versions
    menus.about_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, QMessageBox))
    box = window.dialogs.current
    assert isinstance(box, QMessageBox) and versions in box.informativeText()
    box.accept()
    await wait_until(lambda: window.dialogs.current is None)
    assert menus.log_folder() == Path(window.store.path).parent / "logs"
