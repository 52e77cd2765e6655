"""PySide6 must not lose references to ``None`` when Qt calls a Python override.

PySide6-Essentials 6.12.0 on Python 3.11 drops one reference to ``None`` each time Qt calls
an override (a model's ``data()``) that returns ``None``. ``None`` is not immortal before
Python 3.12, so the count reaches zero after a few minutes of a live table and the
interpreter aborts with ``none_dealloc``. This fails on such a pair, before the crash.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile
from sfmonitor.ui.events_model import EventsModel
from sfmonitor.ui.worker import Worker
from tests.helpers.events import event, push_topic
from tests.helpers.waiting import wait_until

CALLS = 5000
TOLERANCE = 50  # other code may take or drop a few references meanwhile; a leak drops 5,000


class NoneModel(QAbstractTableModel):
    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 10

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 3

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return None


def none_refs_lost_through_proxy(source: QAbstractTableModel, role: int) -> int:
    """References to None lost over ``CALLS`` data() calls that Qt makes on ``source``."""
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(source)
    rows, columns = proxy.rowCount(), proxy.columnCount()
    assert rows and columns
    indexes = [proxy.index(r % rows, r % columns) for r in range(CALLS)]
    before = sys.getrefcount(None)
    for index in indexes:
        proxy.data(index, role)  # Qt calls the Python override, which returns None
    return before - sys.getrefcount(None)


def test_a_python_model_returning_none_keeps_none_alive(qapp: Any) -> None:
    lost = none_refs_lost_through_proxy(NoneModel(), Qt.ItemDataRole.DisplayRole)
    assert lost < TOLERANCE, (
        f"{lost} references to None lost in {CALLS} calls: this PySide6 "
        f"({_pyside_version()}) on Python {sys.version.split()[0]} will crash the app"
    )


@pytest.mark.asyncio
async def test_the_events_model_keeps_none_alive(store: CaptureStore) -> None:
    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i + 1, f"Name {i}")) for i in range(20)])
    worker = Worker()
    model = EventsModel(store, worker)
    try:
        model.set_query(EventQuery(profile.id))
        await wait_until(lambda: model.rowCount() == 20)
        await model.settle()
        # DecorationRole has no value in any cell: every call returns None
        lost = none_refs_lost_through_proxy(model, Qt.ItemDataRole.DecorationRole)
        assert lost < TOLERANCE, f"{lost} references to None lost in {CALLS} calls"
    finally:
        await model.settle()
        worker.shutdown()


def _pyside_version() -> str:
    import PySide6

    return str(PySide6.__version__)
