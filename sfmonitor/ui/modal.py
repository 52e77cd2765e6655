"""Dialogs awaited without a nested event loop.

``QDialog.exec()``, ``QMessageBox.warning()``, ``QFileDialog.getSaveFileName()`` and
``QInputDialog.getItem()`` each run a nested Qt event loop. Called from an asyncio task on
the qasync loop, that loop keeps the task "running", so every other task (the capture, the
store writer's reports, the table's loads) fails to step ("Cannot enter into task ...
while another task ... is being executed") and capture stops silently. Here every dialog
is opened with ``open()`` (window-modal, non-blocking) and its ``finished`` signal resolves
a future that the task awaits: the loop keeps turning while the user thinks.

tests/ui/test_no_nested_loops.py keeps the blocking calls out of ``sfmonitor/ui``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget

Button = QMessageBox.StandardButton
LAST_FOLDER = "dialogs/last_folder"


class Dialogs:
    """The window's dialogs. ``current`` is the one open now (people and tests answer it)."""

    def __init__(self, parent: QWidget | None, settings: QSettings) -> None:
        self.parent = parent
        self.settings = settings
        self.current: QDialog | None = None

    async def run(self, dialog: QDialog) -> int:
        """Show ``dialog`` window-modal and wait for its result code (Accepted = 1)."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def finished(code: int) -> None:
            if not done.done():
                done.set_result(code)

        dialog.finished.connect(finished)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        previous, self.current = self.current, dialog
        dialog.open()
        try:
            return await done
        finally:
            self.current = previous
            dialog.finished.disconnect(finished)
            if dialog.isVisible():  # the task was cancelled: do not leave it on screen
                dialog.reject()

    # --- messages ----------------------------------------------------------------------------

    async def message(
        self,
        icon: QMessageBox.Icon,
        title: str,
        text: str,
        detail: str = "",
        buttons: Button = Button.Ok,
        default: Button = Button.NoButton,
    ) -> Button:
        box = QMessageBox(icon, title, text, buttons, self.parent)
        box.setTextFormat(Qt.TextFormat.PlainText)  # server words are never markup
        if detail:
            box.setInformativeText(detail)
        if default != Button.NoButton:
            box.setDefaultButton(default)
        try:
            await self.run(box)
            return box.standardButton(box.clickedButton())
        finally:
            box.deleteLater()

    async def inform(self, title: str, text: str, detail: str = "") -> None:
        await self.message(QMessageBox.Icon.Information, title, text, detail)

    async def warn(self, title: str, text: str, detail: str = "") -> None:
        await self.message(QMessageBox.Icon.Warning, title, text, detail)

    async def confirm(self, title: str, text: str, detail: str = "") -> bool:
        """Yes or No; No is the default (Enter does not confirm by accident)."""
        answer = await self.message(
            QMessageBox.Icon.Question, title, text, detail, Button.Yes | Button.No, Button.No
        )
        return answer == Button.Yes

    async def choose(self, title: str, label: str, items: list[str]) -> str | None:
        """One of ``items`` (the first is preselected), or None when cancelled."""
        dialog = QInputDialog(self.parent)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setComboBoxItems(items)
        dialog.setComboBoxEditable(False)
        dialog.setTextValue(items[0])
        try:
            accepted = await self.run(dialog)
            return dialog.textValue() if accepted else None
        finally:
            dialog.deleteLater()

    # --- files -------------------------------------------------------------------------------

    def _folder(self) -> str:
        folder = str(self.settings.value(LAST_FOLDER, "") or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    async def _file(self, dialog: QFileDialog) -> tuple[Path, str] | None:
        try:
            if not await self.run(dialog) or not dialog.selectedFiles():
                return None
            path = Path(dialog.selectedFiles()[0])
            self.settings.setValue(LAST_FOLDER, str(path.parent))
            return path, dialog.selectedNameFilter()
        finally:
            dialog.deleteLater()

    async def save_path(self, title: str, name: str, filters: str) -> tuple[Path, str] | None:
        """Where to write (starting in the last folder used); the path and chosen filter."""
        dialog = QFileDialog(self.parent, title, str(Path(self._folder()) / name), filters)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        return await self._file(dialog)

    async def open_path(self, title: str, filters: str) -> Path | None:
        dialog = QFileDialog(self.parent, title, self._folder(), filters)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        chosen = await self._file(dialog)
        return chosen[0] if chosen else None
