"""The real window, offscreen, flooded by a replay, with a 10 ms heartbeat on the Qt thread.

The emulator runs in its own process with N events (default 200,000, ~512 B) retained on a
platform-event channel; the window opens a profile subscribed to it with "all retained
events", so the whole backlog arrives as fast as the client can read it. Printed:

  flood     heartbeat gaps (p50/p99/max) during the flood, against the same heartbeat idle
            (the baseline, same run); time until every event is in the table; events/s.
            The window as a person has it (issue 18): the timeline strip shown, channel
            rates and sparklines, and two payload fields as columns (``--plain``: none)
  timeline  with 1,000,000 events captured: the strip read from SQL aggregates and drawn,
            cold (cache dropped) and warm, against a bare count of the profile's events
  filter    with 1,000,000 events captured: a text filter, from change to updated view,
            against a bare LIKE count over the same rows (the floor of a full scan)
  memory    peak RSS of a fresh app process showing the 1,000,000 captured events
  launch    launch to first painted window (sfmonitor --quit-after-paint) against a bare
            PySide6 window doing the same (medians of 5 alternating rounds)

    python benchmarks/ui_flood.py [--events 200000] [--captured 1000000] [--plain]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import qasync  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.store import events as bulk_events  # noqa: E402
from sfmonitor.emulator import (  # noqa: E402
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from sfmonitor.store import (  # noqa: E402
    CaptureStore,
    CredentialVault,
    Environment,
    Profile,
    Secrets,
    Subscription,
    search,
)
from sfmonitor.ui.channel_view import profile_key  # noqa: E402
from sfmonitor.ui.column_chooser import columns_to_text, fixed_columns, with_field  # noqa: E402
from sfmonitor.ui.gc_guard import GuiThreadCollector  # noqa: E402
from sfmonitor.ui.launch import tune_runtime  # noqa: E402
from sfmonitor.ui.main_window import MainWindow  # noqa: E402

CHANNEL = "/event/Flood__e"
FIELDS = ("Sequence__c", "CreatedById")  # the payload fields shown as columns
BARE_WINDOW = """
import os, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
class Probe(QObject):
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint:
            print("first paint", flush=True); QTimer.singleShot(0, app.quit)
        return False
app = QApplication([]); w = QMainWindow(); w.setCentralWidget(QTableView()); w.resize(1280, 800)
p = Probe(); w.installEventFilter(p); w.show(); app.exec()
"""


MEMORY_CHILD = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sfmonitor.store import CaptureStore, CredentialVault
from sfmonitor.ui.main_window import MainWindow
app = QApplication([])

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

async def main():
    store = CaptureStore.open(Path(sys.argv[1]))
    # a settings file of its own (never /dev/null: Qt saves by replacing the file, and as
    # root that replaces the device with a regular file)
    settings = QSettings(str(Path(sys.argv[1]) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, CredentialVault(), settings)
    window.show()
    await window.profiles.open_profile(store.profiles()[0], None)
    while window.model.rowCount() == 0:
        await asyncio.sleep(0.05)
    for text in ("", "globex", ""):
        window.filter_bar.text.setText(text)
        window.filter_bar._apply()
        await asyncio.sleep(1.5)
        window.table.scrollToBottom()
        await asyncio.sleep(0.3)
        await window.model.settle()
    print(window.model.rowCount(), hwm())
    await window.shutdown()
    store.close()

with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as r:
    r.run(main())
"""


class Heartbeat:
    """A 10 ms QTimer; the gaps between its ticks show how long the Qt thread was busy.

    A watcher thread notes what the Qt thread was running during the longest gap (its
    Python stack, sampled every 20 ms once a gap passes 100 ms), to say where a stall is.
    """

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.running = False
        self.stall: tuple[float, list[str]] = (0.0, [])
        self.gc_pauses: list[tuple[float, int, str]] = []  # seconds, generation, thread
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)
        self._qt_thread = threading.get_ident()
        threading.Thread(target=self._watch, daemon=True).start()

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.running:
            pause = time.perf_counter() - self._gc_started
            self.gc_pauses.append((pause, info["generation"], threading.current_thread().name))

    def _watch(self) -> None:
        while True:
            time.sleep(0.02)
            gap = time.perf_counter() - self.last
            frame = sys._current_frames().get(self._qt_thread)
            if gap > 0.1 and self.running and frame is not None and gap > self.stall[0]:
                self.stall = (gap, traceback.format_stack(frame)[-6:])

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def start(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()
        self.timer.start()
        self.running = True

    def stop(self) -> list[float]:
        self.running = False
        self.timer.stop()
        return sorted(self.gaps)


async def filter_times(window: MainWindow) -> list[float]:
    """Seconds from a new text filter to the updated view, for rare and common words."""
    times = []
    for term in ("acme corp 12345", "vandelay", "acme corp 54321", "globex", "corp 4242"):
        done = asyncio.get_running_loop().create_future()
        window.model.count_changed.connect(lambda n, f=done: f.done() or f.set_result(n))
        window.model.store.clear_caches()  # a new filter: no count or plan remembered
        t = time.perf_counter()
        window.filter_bar.text.setText(term)
        window.filter_bar._apply()  # skip the typing debounce: time the query itself
        await done
        times.append(time.perf_counter() - t)
    return times


async def timeline_times(window: MainWindow, profile_id: int) -> str:
    """The strip over every captured event: read (SQL aggregates) and drawn, cold and
    warm (medians of 3), against a bare count of the profile's events (the floor)."""
    strip = window.timeline
    cold, warm, floor = [], [], []
    for _ in range(3):
        for times, drop in ((cold, True), (warm, False)):
            if drop:
                strip.timeline.clear()  # no bucket remembered
            t = time.perf_counter()
            strip.refresh()
            await strip.settle()
            strip.repaint()
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        window.store._read("SELECT count(*) FROM events WHERE profile_id = ?", (profile_id,))
        floor.append(time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(10):
        strip.repaint()
    paint = (time.perf_counter() - t) / 10
    data = strip.data
    total = sum(data.histogram.totals()) if data is not None and data.histogram else 0
    c, w, f = (statistics.median(x) * 1000 for x in (cold, warm, floor))
    return (
        f"timeline over {total:,} captured events: read and drawn in {c:.0f} ms cold, "
        f"{w:.0f} ms warm (target < 100); a repaint alone {paint * 1000:.1f} ms; floor (bare "
        f"count of the profile's events) {f:.0f} ms; cold ratio {c / f:.2f}"
    )


def figures(gaps: list[float]) -> tuple[float, float, float]:
    p = lambda q: gaps[min(len(gaps) - 1, int(q * len(gaps)))] * 1000  # noqa: E731
    return p(0.5), p(0.99), gaps[-1] * 1000


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfmonitor.emulator", "--max-batch", "1000"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split()[-1]


def post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=orjson.dumps(body), method="POST")
    with urllib.request.urlopen(request, timeout=600) as reply:
        return orjson.loads(reply.read())  # type: ignore[no-any-return]


def launch_time(command: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("first paint"):
            break
    elapsed = time.perf_counter() - t
    proc.wait(30)
    return elapsed


async def flood(
    window: MainWindow,
    store: CaptureStore,
    url: str,
    args: argparse.Namespace,
    idle: tuple[float, float, float],
    heartbeat: Heartbeat,
) -> Profile:
    """The replay flood into the window (with the field columns unless ``--plain``), its
    heartbeat figures printed; the profile captured."""
    settings = window.settings
    profile = store.save_profile(
        Profile(
            "Flood",
            Environment.CUSTOM,
            url,
            username=DEFAULT_USERNAME,
            client_id=DEFAULT_CLIENT_ID,
        )
    )
    assert profile.id is not None
    store.set_subscription(profile.id, Subscription(CHANNEL, replay_policy="all"))
    columns = fixed_columns()
    for path in () if args.plain else FIELDS:
        columns = with_field(columns, path)
    settings.setValue(f"{profile_key(window, profile)}/columns", columns_to_text(columns))
    secrets = Secrets(password=DEFAULT_PASSWORD, client_secret=DEFAULT_CLIENT_SECRET)
    heartbeat.start()
    started = time.perf_counter()
    await window.profiles.open_profile(profile, secrets)
    while window.model.rowCount() < args.events:
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - started
    gaps = figures(heartbeat.stop())
    extras = "plain window" if args.plain else "timeline, rates, 2 field columns"
    print(
        f"flood ({extras}): {args.events:,} events in the table after {seconds:.1f} s "
        f"({args.events / seconds:,.0f} events/s); heartbeat gaps p50 {gaps[0]:.0f} ms, "
        f"p99 {gaps[1]:.0f} ms (target < 50), max {gaps[2]:.0f} ms (target < 250); "
        f"idle baseline p99 {idle[1]:.0f} ms, max {idle[2]:.0f} ms; "
        f"p99 ratio {gaps[1] / idle[1]:.2f}"
    )
    pauses = sorted(heartbeat.gc_pauses, reverse=True)
    print(
        f"  garbage collections during the flood: {len(pauses)}, longest "
        + ", ".join(f"{p * 1000:.0f} ms (gen {g}, {t})" for p, g, t in pauses[:3])
    )
    if heartbeat.stall[0] > 0.25:
        print(f"  longest stall, at {heartbeat.stall[0] * 1000:.0f} ms the Qt thread ran:")
        print("".join(heartbeat.stall[1]).rstrip())
    return profile


async def run(args: argparse.Namespace, app: QApplication) -> None:
    work = Path(tempfile.mkdtemp(prefix="sfmonitor-uiflood-"))
    emulator, url = start_emulator()
    try:
        post(f"{url}/__emulator/generate", {"channel": CHANNEL, "count": args.events})
        store = CaptureStore.open(work / "data")
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("view/timeline", not args.plain)
        window = MainWindow(store, CredentialVault(), settings)
        window.show()
        tune_runtime()  # as the app does after start-up
        collector = GuiThreadCollector(app)  # and collects cycles on this thread only
        collector.start()
        heartbeat = Heartbeat()
        heartbeat.start()
        await asyncio.sleep(2.0)
        idle = figures(heartbeat.stop())

        profile = await flood(window, store, url, args, idle, heartbeat)
        await window.controller.disconnect_profile()

        # fill the capture to N events (off the Qt thread, as the pipeline would)
        more = args.captured - args.events

        def fill() -> None:
            for start in range(0, more, 5000):
                store.ingest(profile.id or 0, bulk_events(start, min(5000, more - start)))

        filler = threading.Thread(target=fill)
        filler.start()
        while filler.is_alive():
            await asyncio.sleep(0.1)
        window.model.refresh()
        while window.model.rowCount() < args.captured:
            await asyncio.sleep(0.05)
        if not args.plain:
            print(await timeline_times(window, profile.id))
        newest, indexed = search.progress(store._reader_conn())
        behind = newest - indexed
        fresh = await filter_times(window)
        t = time.perf_counter()
        while await asyncio.to_thread(store.index_pending, 20_000):
            pass
        caught_up = time.perf_counter() - t
        indexed = await filter_times(window)
        bare = []
        for term in ("acme corp 12345", "vandelay"):
            t = time.perf_counter()
            store._read(
                "SELECT count(*) FROM events WHERE summary LIKE ? OR raw LIKE ?",
                (f"%{term}%", f"%{term}%"),
            )
            bare.append(time.perf_counter() - t)
        floor = statistics.median(bare)
        total = window.model.store.count(window.model.query.__class__(profile.id))
        for label, times in (
            (f"right after the flood ({behind:,} events not yet in the search index)", fresh),
            (f"once the search index caught up ({caught_up:.0f} s later)", indexed),
        ):
            med = statistics.median(times)
            print(
                f"filter over {total:,} captured, {label}: view updated in {med * 1000:.0f} ms "
                f"median, {max(times) * 1000:.0f} ms max (target < 200); floor (bare LIKE "
                f"count) {floor * 1000:.0f} ms; ratio {med / floor:.2f}"
            )
        await window.shutdown()
        collector.stop()
        store.close()
        child = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, str(work / "data"), str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        ).stdout.split()
        print(
            f"memory: the app showing {int(child[0]):,} captured events (scrolled to the end, "
            f"filtered, unfiltered): peak RSS {float(child[1]):.0f} MB (target < 400 MB)"
        )
    finally:
        emulator.terminate()
        emulator.wait(10)

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    ours, bare_times = [], []
    for _ in range(5):
        ours.append(
            launch_time(
                [
                    sys.executable,
                    "-m",
                    "sfmonitor",
                    "--data-dir",
                    str(work / "launch"),
                    "--quit-after-paint",
                ],
                env,
            )
        )
        bare_times.append(launch_time([sys.executable, "-c", BARE_WINDOW], env))
    a, b = statistics.median(ours), statistics.median(bare_times)
    print(
        f"launch: first painted window after {a:.2f} s from source (target < 1.5 s); "
        f"bare PySide6 window {b:.2f} s; ratio {a / b:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--captured", type=int, default=1_000_000)
    parser.add_argument(
        "--plain", action="store_true", help="no timeline and no field columns (to compare)"
    )
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(run(args, app))


if __name__ == "__main__":
    main()
