"""Qt objects in reference cycles are destroyed on the GUI thread, even when a worker thread
is the one allocating when a collection falls due (destroyed elsewhere, Qt crashes)."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from PySide6.QtCore import QObject

from sfmonitor.ui.gc_guard import GuiThreadCollector
from tests.helpers.waiting import wait_until


class _Cycle:
    """A reference cycle holding a Qt object: only the cyclic collector can free it, and
    ``__del__`` notes the thread of the collection that does."""

    def __init__(self, collected_in: list[int]) -> None:
        self.me = self
        self.qobject = QObject()
        self.collected_in = collected_in

    def __del__(self) -> None:
        self.collected_in.append(threading.get_ident())


def _make_garbage_in_a_worker_thread() -> None:
    """What the store's threads do all day: allocate, here cycles past the collector's first
    threshold (the interpreter would collect in this thread, mid-allocation)."""

    def churn() -> None:
        for _ in range(3 * gc.get_threshold()[0]):
            cycle: list[Any] = []
            cycle.append(cycle)

    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()


@pytest.mark.asyncio
async def test_cycles_with_qt_objects_die_on_the_gui_thread(qapp: Any) -> None:
    gc.enable()  # as at start-up, before the window's collector
    gc.collect()
    collector = GuiThreadCollector(interval_ms=20)
    collector.start()
    try:
        collected_in: list[int] = []
        _Cycle(collected_in)  # garbage at once, but only a collection can free it
        _make_garbage_in_a_worker_thread()
        assert collected_in == []  # the worker thread did not collect it
        await wait_until(lambda: collected_in, what="the timer's collection")
        assert collected_in == [threading.main_thread().ident]
    finally:
        collector.stop()
    assert gc.isenabled()  # handed back


def test_stop_collects_what_is_left_on_the_calling_thread(qapp: Any) -> None:
    gc.enable()
    collector = GuiThreadCollector()
    collector.start()
    assert not gc.isenabled()
    collected_in: list[int] = []
    _Cycle(collected_in)
    collector.stop()
    assert collected_in == [threading.main_thread().ident]
    assert gc.isenabled()
