"""Export and import from the window: a file dialog, then the work in a worker thread with
a progress dialog that can cancel it. The window stays responsive throughout."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QProgressDialog, QWidget

from sfmonitor.store import (
    CaptureStore,
    EventQuery,
    ExportCancelled,
    ImportFormatError,
    Profile,
    export_events,
    import_capture,
)

from .worker import Worker

SCOPES = ("Events shown (the current filter)", "All events of this profile", "Selected rows")


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


def choose_scope(parent: QWidget, has_selection: bool) -> str | None:
    scopes = list(SCOPES if has_selection else SCOPES[:2])
    scope, ok = QInputDialog.getItem(parent, "Export", "Which events?", scopes, 0, False)
    return scope if ok else None


async def run_export(
    parent: QWidget,
    store: CaptureStore,
    worker: Worker,
    query: EventQuery,
    target: Path | None = None,
) -> int | None:
    """Ask for a file (unless given), export with progress; the number of events written."""
    if target is None:
        name, chosen = QFileDialog.getSaveFileName(
            parent, "Export events", "events.json", "JSON (*.json);;NDJSON (*.ndjson *.jsonl)"
        )
        if not name:
            return None
        target = Path(name)
        if "NDJSON" in chosen and target.suffix.lower() not in (".ndjson", ".jsonl"):
            target = target.with_suffix(".ndjson")
    dialog = QProgressDialog(f"Exporting to {target.name}…", "Cancel", 0, 1, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    cancel = threading.Event()
    dialog.canceled.connect(cancel.set)
    bridge = ProgressBridge(dialog, asyncio.get_running_loop())
    try:
        result = await worker.run(export_events, store, query, target, None, bridge, cancel)
    except ExportCancelled:
        return None
    except (OSError, ValueError) as exc:
        QMessageBox.warning(parent, "Export failed", f"Could not export to {target}:\n{exc}")
        return None
    finally:
        dialog.reset()
        dialog.close()
    return result.count


async def run_import(
    parent: QWidget, store: CaptureStore, worker: Worker, source: Path | None = None
) -> Profile | None:
    """Import an export file as a read-only capture; a bad file is reported, nothing kept."""
    if source is None:
        name, _ = QFileDialog.getOpenFileName(
            parent, "Open an export", "", "Exports (*.json *.ndjson *.jsonl);;All files (*)"
        )
        if not name:
            return None
        source = Path(name)
    try:
        result = await worker.run(import_capture, store, source)
    except ImportFormatError as exc:
        QMessageBox.warning(parent, "Not an sfmonitor export", f"{source.name}: {exc}")
        return None
    except OSError as exc:
        QMessageBox.warning(parent, "Cannot read the file", str(exc))
        return None
    return result.profile
