"""Refuse to run on a PySide6 that would crash the app later.

PySide6 6.12.0 on Python 3.11 loses a reference to ``None`` each time Qt calls a Python
override that returns ``None`` (a table model's ``data()`` does, many times a second).
Before Python 3.12 ``None`` is not immortal: after a few minutes its count reaches zero
and the interpreter aborts ("none_dealloc"), taking the capture with it. pyproject.toml
keeps that pair out; this catches an environment that installed it anyway, at once and
with a clear message, instead of a crash minutes into a capture.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSortFilterProxyModel, Qt

CALLS = 2000
TOLERANCE = 100


class _Nothing(QAbstractListModel):
    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 1

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return None


def none_refs_lost(calls: int = CALLS) -> int:
    """References to None lost when Qt calls a Python ``data()`` ``calls`` times."""
    proxy = QSortFilterProxyModel()
    source = _Nothing()
    proxy.setSourceModel(source)
    index = proxy.index(0, 0)
    before = sys.getrefcount(None)
    for _ in range(calls):
        proxy.data(index, Qt.ItemDataRole.DisplayRole)
    return before - sys.getrefcount(None)


def none_leak_problem() -> str:
    """ "" when this PySide6 is safe here; otherwise what to do about it."""
    if sys.version_info >= (3, 12):
        return ""  # None is immortal: a lost reference cannot free it
    lost = none_refs_lost()
    if lost < TOLERANCE:
        return ""
    import PySide6

    return (
        f"PySide6 {PySide6.__version__} leaks references to None on Python "
        f"{sys.version.split()[0]} ({lost} in {CALLS} calls) and would crash within minutes. "
        "Install a PySide6-Essentials older than 6.12 (pip install 'PySide6-Essentials<6.12') "
        "or use Python 3.12 or newer."
    )
