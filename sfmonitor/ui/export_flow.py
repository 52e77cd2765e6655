"""Export and import from the window: the file dialog, then the work in a worker thread
with a progress dialog that can cancel it. Nothing here runs a nested event loop (see
``modal``), so capture goes on while the user picks a file or the export runs."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from .main_window import MainWindow
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


class ExportFlow:
    """Export and "Open an export" from the window."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window

    async def export(self, scope: str | None = None, target: Path | None = None) -> int | None:
        """Which events (a dialog unless ``scope``), where (unless ``target``), then the
        export with progress; the number written."""
        w = self.w
        if w.profile is None:
            return None
        selected = [w.model.row_at(i.row()) for i in w.table.selectionModel().selectedRows()]
        ids = tuple(r.id for r in selected if r is not None)
        scopes = list(SCOPES if ids else SCOPES[:2])
        scope = scope or await w.dialogs.choose("Export", "Which events?", scopes)
        if scope is None:
            return None
        target = target or await ask_export_target(w.dialogs)
        if target is None:
            return None
        query = w.current_query()
        if scope == SCOPES[1]:
            query = EventQuery(query.profile_id)
        elif scope == SCOPES[2]:
            query = EventQuery(query.profile_id, ids=ids)
        count = await run_export(w, w.dialogs, w.store, w.worker, query, target)
        if count is not None:
            w.status.show_activity(f"Exported {count:,} events to {target}")
        return count

    async def import_capture(self, source: Path | None = None) -> Profile | None:
        """Open an export (a file dialog unless ``source``) as a read-only capture."""
        w = self.w
        profile = await run_import(w.dialogs, w.store, w.worker, source)
        if profile is not None:
            await w.profiles.open_profile(profile, None)
        return profile
