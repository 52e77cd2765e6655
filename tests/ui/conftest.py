"""UI tests: real widgets offscreen on a qasync loop (Qt and asyncio in one loop).

Never call qtbot.waitSignal / waitUntil / wait inside an async test: on the qasync loop
they hang (see the environment reference). Use ``tests.helpers.waiting.wait_until``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import qasync
from PySide6.QtWidgets import QApplication

from sfmonitor.store import CaptureStore
from sfmonitor.ui.gc_guard import GuiThreadCollector
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.windows import a_window


def _qapp() -> QApplication:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    return app


class _Loop(qasync.QEventLoop):  # type: ignore[misc]
    def close(self) -> None:
        """What the closed loop leaves in reference cycles (qasync's timers and socket
        notifiers) is collected here, on the GUI thread, never later by a worker thread."""
        super().close()
        gc.collect()


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Callable[[], Any]]:
    """Every async test and fixture under tests/ui runs on a fresh qasync loop."""
    return {"qasync": lambda: _Loop(_qapp())}


@pytest.fixture(autouse=True)
def gui_thread_collection() -> Iterator[None]:
    """As in the app: cyclic garbage (Qt objects among it) is collected on the GUI thread
    only, so a worker thread never destroys a widget or a timer (a random segfault)."""
    collector = GuiThreadCollector(_qapp())
    collector.start()
    yield
    collector.stop()
    collector.deleteLater()


@pytest_asyncio.fixture
async def window(store: CaptureStore, tmp_path: Path, qtbot: Any) -> AsyncIterator[MainWindow]:
    async with a_window(store, tmp_path / "settings.ini") as win:
        await win.profiles.refresh_menu()
        yield win
    assert not win.isVisible()  # shut down: disconnected, the demo stopped, closed
