"""Python's cyclic garbage collector runs in whichever thread happens to allocate when a
threshold is crossed. Our worker threads (SQLite writes, the store's indexer, exports)
allocate all the time, and Qt objects caught in reference cycles (qasync's timers and socket
notifiers, closed dialogs, finished tasks that held a widget) must be destroyed in the thread
that owns them, the GUI thread: destroyed from another thread, Qt crashes at random (a
segmentation fault seen in CI). So while the window runs, automatic collection is off and the
GUI thread collects from a timer, the generation whose threshold is passed (the
interpreter's own extra rule for a full collection, that a quarter of the long-lived objects
be new, is not visible from Python; the thresholds ``launch.tune_runtime`` sets and its
``gc.freeze`` of the start-up heap keep full collections rare)."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """Cyclic garbage collection on the GUI thread only (``start`` / ``stop``)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 200) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Collect everything now (on this, the GUI thread), then give collection back."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> int:
        """Collect the oldest generation past its threshold, if any; the objects found."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for gen in range(3):
            if counts[gen] > thresholds[gen]:
                generation = gen
        return gc.collect(generation) if generation >= 0 else 0
