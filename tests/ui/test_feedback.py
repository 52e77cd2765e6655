"""What the window shows while things happen: rows never blank during live traffic, a
stale filter says so, the status bar counts down and forgets what no longer applies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile
from sfmonitor.streaming import ConnectionState
from sfmonitor.ui.events_model import PAGE, EventsModel
from sfmonitor.ui.filter_bar import FilterBar
from sfmonitor.ui.main_window import MainWindow
from sfmonitor.ui.status_bar import StatusBar
from sfmonitor.ui.worker import Worker
from tests.helpers.events import event, push_topic
from tests.helpers.waiting import wait_until


def loaded(model: EventsModel, first: int, last: int) -> list[int]:
    """Rows in [first, last) whose data is not in hand (each would paint as "…")."""
    missing = [n for n in range(first, last) if model.row_at(n) is None]
    return missing


@pytest.mark.asyncio
@pytest.mark.parametrize("sort_column", [0, 1])  # time (appends), channel (reads again)
async def test_live_rows_never_blank(store: CaptureStore, sort_column: int) -> None:
    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    worker = Worker()
    model = EventsModel(store, worker)
    model.following = lambda: True  # the view shows the newest rows, as when following
    blanks: list[tuple[str, list[int]]] = []

    def check(what: str) -> None:
        count = model.rowCount()
        shown = range(max(count - PAGE, 0), count)  # what a following view paints
        missing = loaded(model, shown.start, shown.stop)
        if missing:
            blanks.append((what, missing[:5]))

    model.rows_appended.connect(lambda _n: check("append"))
    model.modelReset.connect(lambda: check("reset"))
    try:
        model.set_query(EventQuery(profile.id))
        model.sort(sort_column, Qt.SortOrder.AscendingOrder)
        await model.settle()
        replay = 1
        for batch in (150, 60, 250, 7, 420, 3):
            store.ingest(
                profile.id,
                [event(push_topic(replay + i, f"Row {replay + i}")) for i in range(batch)],
            )
            replay += batch
            model.new_rows_stored()
            await wait_until(lambda r=replay: model.rowCount() == r - 1)
            await model.settle()
        assert model.rowCount() == 890
        assert blanks == []
    finally:
        await model.settle()
        worker.shutdown()


@pytest.mark.asyncio
async def test_an_invalid_filter_greys_the_old_rows_and_escape_clears_it(
    window: MainWindow,
) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: window.model.rowCount() >= 3, timeout=20)
    bar = window.filter_bar
    bar.text.setText("Amount >")
    bar._debounce.timeout.emit()  # the typing pause, without waiting for it
    assert bar.error.isVisibleTo(bar) and "last valid filter" in bar.error.text()
    assert window.model.stale
    assert window.model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is not None
    bar.text.setFocus()
    QTest.keyClick(bar.text, Qt.Key.Key_Escape)
    assert bar.text.text() == ""
    bar._debounce.timeout.emit()
    assert not bar.error.isVisibleTo(bar) and not window.model.stale
    assert window.model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is None


def test_filter_bar_reapplies_the_same_text_after_an_invalid_one(qtbot: Any) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    applied: list[int] = []
    bar.changed.connect(lambda: applied.append(1))
    bar.text.setText("Acme")
    bar._apply()
    bar.text.setText("Acme >")
    bar._apply()
    bar.text.setText("Acme")
    bar._apply()
    assert len(applied) == 2  # the table must leave its stale state


@pytest.mark.asyncio
async def test_status_bar_counts_down_says_each_thing_once_and_forgets(qtbot: Any) -> None:
    status = StatusBar()
    qtbot.addWidget(status)
    status.resize(1280, 30)
    status.show()
    asked: list[int] = []
    status.reconnect_requested.connect(lambda: asked.append(1))
    status.show_state(ConnectionState.RECONNECTING, "Reconnecting", 3.0)
    status.show_problem("", "503::Server is too busy")
    assert status.state_label.text() == "Reconnecting in 3 s"
    assert status.problem() == "503::Server is too busy"
    await wait_until(lambda: status.state_label.text() == "Reconnecting in 2 s", timeout=3)
    assert status.reconnect_button.isVisibleTo(status)
    status.reconnect_button.click()
    assert asked == [1]
    # a channel's problem goes away with the channel; the connection's when it is live
    status.show_problem("/event/Gone__e", "403::Unknown channel")
    assert status.problem().startswith("/event/Gone__e: 403::Unknown channel (+1 more)")
    status.clear_channel_problems(keep=set())
    assert status.problem() == "503::Server is too busy"
    status.show_state(ConnectionState.CONNECTED, "Live")
    assert status.problem() == "" and status.state_label.text() == "Live"
    assert not status.reconnect_button.isVisibleTo(status)
    # long text is cut to fit, whole in the tooltip
    long = "PRODUCTION " + "x" * 2000
    status.show_problem("", long)
    assert status.error_label.text().endswith("…") and status.error_label.toolTip() == long
    # totals always say both figures once captured is known
    status.show_totals(shown=5)
    assert status.total_label.text() == "5 shown"
    status.show_totals(captured=7)
    status.show_totals(shown=6)
    assert status.total_label.text() == "6 shown · 7 captured"


@pytest.mark.asyncio
async def test_removing_a_channel_clears_its_error(window: MainWindow) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: window.controller.live, timeout=20)
    window.controller.problem.emit("/u/notifications", "400::bad channel")
    assert "/u/notifications" in window.status.problem()
    task = asyncio.ensure_future(window.channels.remove("/u/notifications"))
    await wait_until(lambda: window.dialogs.current is not None)
    box: Any = window.dialogs.current
    keep = next(b for b in box.buttons() if b.text() == "Remove, keep events")
    QTest.mouseClick(keep, Qt.MouseButton.LeftButton)
    await task
    assert "/u/notifications" not in window.status.problem()


@pytest.mark.asyncio
async def test_disconnect_while_logging_in_ends_the_capture_by_itself(
    window: MainWindow,
) -> None:
    await window.profiles.start_demo()  # connecting: the login is under way
    task = window.controller._task
    assert task is not None and not task.done()
    await window.controller.disconnect_profile()
    # it ended because it was asked to, not because the wait for it ran out
    assert task.done() and not task.cancelled()
    assert not window.controller.connected


@pytest.mark.asyncio
async def test_a_refresh_parses_and_plans_its_filter_once(
    store: CaptureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sfmonitor.store import queries

    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i + 1, f"Acme {i}")) for i in range(6000)])
    parsed: list[str] = []
    real_parse = queries.parse
    monkeypatch.setattr(queries, "parse", lambda text: parsed.append(text) or real_parse(text))
    worker = Worker()
    model = EventsModel(store, worker)
    model.following = lambda: True  # the newest pages are read with the first one
    try:
        model.set_query(EventQuery(profile.id, text="Acme"))
        await wait_until(lambda: model.rowCount() == 6000)
        await model.settle()
        # count (in two halves), first page, the two newest pages: one parse
        assert parsed == ["Acme"]
        assert model.row_at(5999) is not None and model.row_at(5600) is not None
    finally:
        await model.settle()
        worker.shutdown()
