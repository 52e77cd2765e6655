"""Export and import from the window: the file dialog, then the work in a worker thread
with a progress dialog that can cancel it. Nothing here runs a nested event loop (see
``modal``), so capture goes on while the user picks a file or the export runs."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from sfmonitor.store import (
    CaptureStore,
    EventQuery,
    ExportCancelled,
    ImportFormatError,
    Profile,
    export_events,
    import_capture,
)

from .modal import Dialogs
from .worker import Worker

SCOPES = ("Events shown (the current filter)", "All events of this profile", "Selected rows")
EXPORT_FILTERS = "JSON (*.json);;NDJSON (*.ndjson *.jsonl)"
IMPORT_FILTERS = "Exports (*.json *.ndjson *.jsonl);;All files (*)"


class ProgressBridge:
    """Progress reported from the worker thread, shown on the Qt thread."""

    def __init__(self, dialog: QProgressDialog, loop: asyncio.AbstractEventLoop) -> None:
        self.dialog = dialog
        self.loop = loop

    def __call__(self, done: int, total: int) -> None:
        self.loop.call_soon_threadsafe(self._show, done, total)

    def _show(self, done: int, total: int) -> None:
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(min(done, max(total, 1)))


def progress_dialog(parent: QWidget, text: str) -> QProgressDialog:
    """Not modal: a modal QProgressDialog pumps the event loop from setValue()."""
    dialog = QProgressDialog(text, "Cancel", 0, 1, parent)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    return dialog


async def ask_export_target(dialogs: Dialogs) -> Path | None:
    chosen = await dialogs.save_path("Export events", "events.json", EXPORT_FILTERS)
    if chosen is None:
        return None
    target, name_filter = chosen
    if "NDJSON" in name_filter and target.suffix.lower() not in (".ndjson", ".jsonl"):
        target = target.with_suffix(".ndjson")
    elif not target.suffix:
        target = target.with_suffix(".json")
    return target


async def run_export(
    parent: QWidget,
    dialogs: Dialogs,
    store: CaptureStore,
    worker: Worker,
    query: EventQuery,
    target: Path,
) -> int | None:
    """Export with progress; the number of events written (None: cancelled or failed)."""
    dialog = progress_dialog(parent, f"Exporting to {target.name}…")
    cancel = threading.Event()
    dialog.canceled.connect(cancel.set)
    bridge = ProgressBridge(dialog, asyncio.get_running_loop())
    try:
        result = await worker.run(export_events, store, query, target, None, bridge, cancel)
    except ExportCancelled:
        return None
    except (OSError, ValueError) as exc:
        dialog.close()
        await dialogs.warn("Export failed", f"Could not export to {target}", str(exc))
        return None
    finally:
        dialog.close()
        dialog.deleteLater()
    return result.count


async def run_import(
    dialogs: Dialogs, store: CaptureStore, worker: Worker, source: Path | None = None
) -> Profile | None:
    """Import an export file as a read-only capture; a bad file is reported, nothing kept."""
    if source is None:
        source = await dialogs.open_path("Open an export", IMPORT_FILTERS)
        if source is None:
            return None
    try:
        result = await worker.run(import_capture, store, source)
    except ImportFormatError as exc:
        await dialogs.warn("Not an sfmonitor export", f"{source.name} cannot be opened", str(exc))
        return None
    except OSError as exc:
        await dialogs.warn("Cannot read the file", f"{source} cannot be read", str(exc))
        return None
    return result.profile
