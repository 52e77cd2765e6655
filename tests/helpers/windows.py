"""A real main window on a store, opened and closed as the app does (UI tests only)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from PySide6.QtCore import QSettings

from sfmonitor.capture.demo import start_demo
from sfmonitor.store import CaptureStore, CredentialVault
from sfmonitor.ui.main_window import MainWindow


@contextlib.asynccontextmanager
async def a_window(store: CaptureStore, settings_file: Path) -> AsyncIterator[MainWindow]:
    """Shown on entry; at exit shut down (disconnected, the demo stopped, closed), its
    worker thread ended and the window deleted. ``settings_file``: its window settings, so
    a second window on the same file starts as the first one left them."""
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    window = MainWindow(store, CredentialVault(), settings, start_demo=start_demo)
    window.show()
    try:
        yield window
    finally:
        await window.shutdown()
        window.worker.shutdown()
        window.deleteLater()
