"""Start the window on a qasync loop: Qt's event loop and asyncio as one."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QApplication

from sfmonitor.store import CaptureStore, CredentialVault, Environment, StoreLockedError, data_dir

from .gc_guard import GuiThreadCollector
from .main_window import DemoStarter, MainWindow
from .modal import Dialogs
from .qt_check import none_leak_problem
from .worker import Worker

SELF_TEST_TIMEOUT = 60.0


SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005


def tune_runtime() -> None:
    """Keep the interpreter from stalling the window during a flood.

    Garbage collection: a flood allocates millions of short-lived objects, so full
    collections run often, and each one walks every object the app holds (Qt wrappers,
    modules...): tens of ms with the window frozen. Freezing what exists after start-up
    takes those out of every walk, and a larger first threshold makes young collections
    rarer. Events hold no cycles, so reference counting still frees them at once.

    The GIL: painting the table calls into Python for every cell, and each call must take
    the GIL back from any worker thread that is running Python meanwhile. By default a
    waiting thread gets the GIL only after 5 ms, so one paint could wait hundreds of times
    that (the store's writer used to cause 0.2-0.7 s stalls so, before rows were built on
    the loop's thread); a 0.5 ms switch interval bounds each wait.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    sys.setswitchinterval(SWITCH_INTERVAL)


def settings() -> QSettings:
    """Window preferences only (last profile, auto-connect); never a secret."""
    return QSettings("sfmonitor", "sfmonitor")


async def open_store(folder: Path, dialogs: Dialogs) -> CaptureStore | None:
    try:
        return CaptureStore.open(folder)
    except StoreLockedError as exc:
        if await dialogs.confirm(
            "sfmonitor is already running", str(exc), "Open this data folder read-only?"
        ):
            return CaptureStore.open(folder, read_only=True)
        return None


async def self_test(window: MainWindow, screenshot: str | None) -> int:
    """Pass once events of every channel of the demo are in the table (and fonts render)."""
    deadline = time.monotonic() + SELF_TEST_TIMEOUT
    profile_id = window.profile.id if window.profile is not None else None
    channels = (
        [s.channel for s in await window.worker.run(window.store.subscriptions, profile_id)]
        if profile_id is not None
        else []
    )
    counts: dict[str, int] = {}
    while True:
        if profile_id is not None:
            counts = await window.worker.run(window.store.channel_counts, profile_id)
        missing = [ch for ch in channels if not counts.get(ch)]
        shown = window.model.rowCount()
        if not missing and shown >= sum(counts.values()):
            break
        if time.monotonic() > deadline:
            reason = f"no events from {', '.join(missing)}" if missing else "table behind"
            print(f"self-test failed: {reason} after {SELF_TEST_TIMEOUT:.0f} s", flush=True)
            return 1
        await asyncio.sleep(0.1)
    await window.model.settle()
    await asyncio.sleep(0.3)  # let the view paint the rows
    if screenshot:
        window.grab().save(screenshot)
    if not QFontInfo(QApplication.font()).family():
        print("self-test failed: no font found (install fontconfig and a font)", flush=True)
        return 1
    print(f"self-test ok: {window.model.rowCount()} events", flush=True)
    return 0


class FirstPaint(QObject):
    """Prints when the window is first painted (``--quit-after-paint``, for startup figures)."""

    def __init__(self, on_paint: Callable[[], None]) -> None:
        super().__init__()
        self.on_paint: Callable[[], None] | None = on_paint

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.on_paint is not None:
            callback, self.on_paint = self.on_paint, None
            callback()
        return False


def stop_on_signals(window: MainWindow) -> None:
    """SIGTERM and Ctrl-C close the window the normal way: what was received is written
    and the capture is stopped cleanly before the process ends."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, window.close)


async def amain(app: QApplication, args: argparse.Namespace, start_demo: DemoStarter) -> int:
    prefs = settings()
    store = await open_store(data_dir(args.data_dir), Dialogs(None, prefs))
    if store is None:
        return 5
    worker = Worker()
    vault = CredentialVault(scope=store.vault_scope)  # secrets named per capture file
    window = MainWindow(store, vault, prefs, worker, start_demo)
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def last_window_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    app.lastWindowClosed.connect(last_window_closed)
    stop_on_signals(window)
    if args.quit_after_paint:

        def painted() -> None:
            print("first paint", flush=True)
            QTimer.singleShot(0, window.close)

        probe = FirstPaint(painted)
        window.installEventFilter(probe)
    window.show()
    tune_runtime()
    try:
        await window.profiles.refresh_menu()
        if args.demo or args.self_test:
            await window.profiles.start_demo()
        else:
            await open_last_profile(window)
        if args.self_test:
            code = await self_test(window, args.screenshot)
            window.close()
            await closed
            return code
        if args.screenshot:
            await asyncio.sleep(2.0)
            window.grab().save(args.screenshot)
        await closed
        return 0
    finally:
        worker.shutdown()
        store.close()


async def open_last_profile(window: MainWindow) -> None:
    """The profile of the last session: connected if asked to; the demo as the demo."""
    last = window.settings.value("last_profile", "")
    auto = window.settings.value("auto_connect", False, type=bool)
    profile = await window.worker.run(window.store.profile, str(last)) if last else None
    if profile is None:
        return
    if auto or profile.environment is Environment.DEMO:
        await window.profiles.open_saved(profile)
    else:
        await window.profiles.open_profile(profile, None)


def run(args: argparse.Namespace, start_demo: DemoStarter) -> int:
    """The window on a qasync loop; ``start_demo`` comes from the composition root."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    problem = none_leak_problem()
    if problem:
        print(f"sfmonitor: {problem}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(3)  # not a normal exit: the probe's lost references would abort it
    app.setApplicationName("sfmonitor")
    app.setOrganizationName("sfmonitor")
    collector = GuiThreadCollector(app)  # Qt objects in cycles die on this thread only
    collector.start()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(amain(app, args, start_demo))
    finally:
        collector.stop()
