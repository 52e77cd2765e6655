"""Makes the README's window screenshots (issue 18) on the built-in demo:

- the light and the dark window, through the app's own ``--screenshot`` (``sfmonitor
  --demo --theme light|dark --screenshot FILE --screenshot-after SECONDS``), once the demo
  has run long enough for the timeline, the rates and the sparklines to show something;
- the record history of a change event: the same window in this process (``--screenshot``
  cannot choose an event), a change event of a record with several captured events
  selected and its "Record history" tab shown.

    QT_QPA_PLATFORM=offscreen python resources/make_screenshots.py [--after 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "screenshots"
sys.path.insert(0, str(ROOT))


def app_shot(theme: str, path: Path, after: float, work: Path) -> None:
    """The app's --screenshot, then SIGTERM (the window closes as Quit does)."""
    command = [sys.executable, "-m", "sfmonitor", "--data-dir", str(work / theme), "--demo"]
    command += ["--theme", theme, "--screenshot", str(path), "--screenshot-after", str(after)]
    path.unlink(missing_ok=True)
    env = dict(os.environ, XDG_CONFIG_HOME=str(work / f"config-{theme}"))  # fresh settings
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + after + 60
        size = -1
        while time.monotonic() < deadline:  # saved once its size stops changing
            time.sleep(0.5)
            now = path.stat().st_size if path.exists() else -1
            if now > 0 and now == size:
                break
            size = now
        else:
            raise SystemExit(f"no screenshot at {path}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")


async def history_shot(path: Path, after: float, work: Path) -> None:
    import orjson
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QAbstractItemView

    from sfmonitor.app import start_demo
    from sfmonitor.store import CaptureStore, CredentialVault, EventQuery
    from sfmonitor.store.record_history import history, record_ids
    from sfmonitor.ui.main_window import MainWindow

    store = CaptureStore.open(work / "history")
    settings = QSettings(str(work / "history.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, CredentialVault(), settings, start_demo=start_demo)
    window.resize(1280, 800)
    window.show()
    try:
        await window.profiles.start_demo()
        await asyncio.sleep(after)  # demo traffic: records created and changed
        window.pause_action.setChecked(True)
        await window.model.settle()
        pid = window.profile.id if window.profile is not None else None
        changes = store.fetch(EventQuery(pid, kinds=frozenset({"change_event"})), 0, 500)
        best = None
        for row in reversed(changes):
            full = store.event(row.id)
            ids = record_ids(orjson.loads(full.raw or "null")) if full else []
            events = history(store, pid or 0, ids) if ids else []
            if window.model.row_of(row.id) is not None and len(events) >= 3:
                best = row
                break
        if best is None:
            raise SystemExit("no change event with a history of 3 events on screen yet")
        number = window.model.row_of(best.id)
        assert number is not None
        window.table.selectRow(number)
        window.table.scrollTo(
            window.model.index(number, 0), QAbstractItemView.ScrollHint.PositionAtCenter
        )
        tabs = window.detail
        while not tabs.has_record():
            await asyncio.sleep(0.05)
        await tabs.settle()
        tabs.setCurrentIndex(tabs.history_tab)
        await asyncio.sleep(0.3)  # laid out (the detail's tabs took their room)
        centre = QAbstractItemView.ScrollHint.PositionAtCenter
        window.table.scrollTo(window.model.index(number, 0), centre)
        await asyncio.sleep(0.3)  # painted
        window.grab().save(str(path))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    finally:
        await window.shutdown()
        window.worker.shutdown()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", type=float, default=40.0, help="seconds of demo traffic")
    parser.add_argument("--history-only", action="store_true", help="the record history only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfmonitor-shots-"))
    OUT.mkdir(parents=True, exist_ok=True)
    for theme in () if args.history_only else ("light", "dark"):
        app_shot(theme, OUT / f"window-{theme}.png", args.after, work)

    import qasync
    from PySide6.QtWidgets import QApplication

    from sfmonitor.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(history_shot(OUT / "record-history.png", args.after, work))


if __name__ == "__main__":
    main()
