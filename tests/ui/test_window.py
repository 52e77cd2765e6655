"""The window against the in-process emulator: live events, filters, pause, detail, replay,
export and import, gaps and errors shown to the user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import pytest_asyncio
from PySide6.QtWidgets import QMessageBox

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, Environment, EventQuery, Secrets
from sfmonitor.streaming import ConnectionState
from sfmonitor.ui.export_flow import SCOPES
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio


async def test_first_run_offers_connect_and_demo(window: MainWindow) -> None:
    assert window.stack.currentWidget() is window.welcome
    assert window.welcome.connect_button.text() == "Connect to an org…"
    assert window.welcome.demo_button.text() == "Try the demo"


async def test_auto_connect_is_a_toggle_in_the_profiles_menu(window: MainWindow) -> None:
    await window.profiles.refresh_menu()
    assert window.auto_connect_action in window.profiles_menu.actions()
    assert not window.auto_connect_action.isChecked()
    window.auto_connect_action.trigger()
    assert window.settings.value("auto_connect", False, type=bool) is True
    window.auto_connect_action.trigger()
    assert window.settings.value("auto_connect", True, type=bool) is False


async def test_demo_shows_live_events_and_channel_status(
    window: MainWindow, store: CaptureStore
) -> None:
    window.welcome.demo_button.click()
    await wait_until(lambda: window.model.rowCount() >= 5, timeout=20)
    assert window.stack.currentIndex() == 1
    assert window.status.state_label.text() == "Live"
    assert len(window.sidebar.channels()) == 6
    assert "live" in window.sidebar.list.item(0).text()
    await window.model.settle()
    first = window.model.index(0, 1).data()
    assert first.startswith("/")  # a channel name, not the loading placeholder
    # every row shown is a stored row, in storage order
    stored = store.fetch(EventQuery(window.profile.id), limit=5)  # type: ignore[union-attr]
    assert [window.model.index(i, 3).data() for i in range(5)] == [str(r.replay_id) for r in stored]


async def test_filter_kind_channels_and_inline_errors(window: MainWindow) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: window.model.rowCount() >= 12, timeout=30)
    window.sidebar.list.setCurrentRow(2)  # /data/ChangeEvents
    await wait_until(
        lambda: (
            window.model.rowCount() > 0
            and window.model.query.channels == frozenset({"/data/ChangeEvents"})
        )
    )
    await window.model.settle()
    channels = {window.model.index(i, 1).data() for i in range(window.model.rowCount())}
    assert channels == {"/data/ChangeEvents"}

    window.filter_bar.text.setText("Amount >")
    await wait_until(lambda: window.filter_bar.error.isVisible())
    assert "a value is missing" in window.filter_bar.error.text()
    window.filter_bar.text.setText("ChangeEventHeader.changeType = UPDATE")
    await wait_until(lambda: not window.filter_bar.error.isVisible())
    await wait_until(lambda: "changeType" in window.model.query.text)
    await window.model.settle()
    changes = {window.model.index(i, 4).data() for i in range(window.model.rowCount())}
    assert changes <= {"UPDATE"}


async def test_pause_view_counts_new_rows_and_resumes(window: MainWindow) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: window.model.rowCount() >= 3, timeout=20)
    window.pause_action.setChecked(True)
    shown = window.model.rowCount()
    await wait_until(lambda: window.badge.isVisible(), timeout=20)
    assert window.badge.text().endswith("new — show")
    assert window.model.rowCount() > shown  # capture and the model go on
    window.badge.click()
    assert not window.pause_action.isChecked()
    await wait_until(lambda: not window.badge.isVisible())


async def test_detail_pane_shows_the_event_as_plain_json(
    window: MainWindow, store: CaptureStore
) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: "live" in window.sidebar.list.item(4).text(), timeout=20)
    emulator = window.demo.emulator
    payload = "<img src=x onerror=alert(1)> <b>bold</b>"
    emulator.org.publish_any("/u/notifications", payload)
    query = EventQuery(window.profile.id, channels=frozenset({"/u/notifications"}))  # type: ignore[union-attr]
    await wait_until(lambda: store.count(query) >= 1, timeout=20)
    window.filter_bar.text.setText('"onerror=alert"')
    await wait_until(lambda: window.model.rowCount() == 1 and window.model.row_at(0) is not None)
    assert window.model.index(0, 5).data() == payload  # shown literally in the table
    window.table.selectRow(0)
    await wait_until(lambda: payload in window.detail.text.toPlainText())
    assert window.detail.copy.isEnabled()


async def test_replay_last_24_hours_stores_every_retained_event_once(
    window: MainWindow, store: CaptureStore
) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: window.model.rowCount() >= 10, timeout=30)
    pid = window.profile.id  # type: ignore[union-attr]
    channels = window.sidebar.channels()
    await window.channels.replay(channels)
    await wait_until(lambda: window.status.activity().startswith("Replayed"), timeout=60)
    assert "already captured" in window.status.activity()  # it really came again
    # the org's own record: every event it retains on those channels, up to the newest
    # one the capture has, is stored, and only once
    org = window.demo.emulator.org
    stored = [(r.channel, r.replay_id) for r in store.fetch(EventQuery(pid), limit=100_000)]
    newest = {ch: max((rid for c, rid in stored if c == ch), default=0) for ch in channels}
    retained = {
        (ch, e.replay_id)
        for ch in channels
        for e in org.channels[ch].events
        if e.replay_id <= newest[ch]
    }
    assert set(stored) >= retained
    assert len(stored) == len(set(stored))


async def test_export_and_import_from_the_window(window: MainWindow, tmp_path: Path) -> None:
    await window.profiles.start_demo()
    await wait_until(lambda: window.model.rowCount() >= 5, timeout=20)
    target = tmp_path / "all.ndjson"
    count = await window.exports.export(SCOPES[1], target)
    assert count is not None and count >= 5
    records = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert len(records) == count
    profile = await window.exports.import_capture(target)
    assert profile is not None and profile.read_only
    assert window.profile == profile
    await wait_until(lambda: window.model.rowCount() == count)
    assert not window.add_channel_action.isEnabled()
    assert not window.replay_action.isEnabled()  # nothing to replay in an export
    # looking at an export does not stop the demo's capture
    assert window.controller.connected and window.controller.profile != profile
    assert window.status.state_label.text().startswith("Demo: ")


async def test_a_refused_login_is_shown_verbatim(window: MainWindow) -> None:
    await window.profiles.start_demo()
    await window.controller.disconnect_profile()
    assert window.demo is not None
    await window.profiles.open_profile(
        window.demo.profile, Secrets(password="wrong", client_secret="x")
    )
    await wait_until(lambda: window.status.state_label.text() == "Login failed", timeout=20)
    assert window.status.state() is ConnectionState.FAILED
    problem = window.status.problem()
    assert "invalid_client" in problem or "invalid_grant" in problem
    assert "Login failed" not in problem  # the state and the reason are not said twice
    assert "wrong" not in window.status.error_label.toolTip()
    # a failed login leaves nothing to replay, and Connect tries the same profile again
    assert not window.replay_action.isEnabled()
    assert window.connect_action.isEnabled()
    assert window.status.reconnect_button.isVisibleTo(window.status)


def channels_live(window: MainWindow) -> bool:
    """Every channel in the sidebar is subscribed (the connection alone is not enough: an
    event published before its channel's subscription is not for this client)."""
    items = [window.sidebar.list.item(i) for i in range(window.sidebar.list.count())]
    return bool(items) and all("live" in item.text() for item in items)


@pytest_asyncio.fixture
async def emulated(window: MainWindow, store: CaptureStore) -> AsyncIterator[Emulator]:
    """The window connected to a plain emulated org with one channel, /u/news."""
    async with Emulator(EmulatorConfig(connect_timeout=2.0, org_is_sandbox=True)) as emulator:
        profile = save_emulator_profile(
            store, emulator.url, ("/u/news", "/u/other"), "Org", Environment.SANDBOX
        )
        emulator.org.clock.offset = -600.0  # ten minutes before the app started
        for i in range(5):  # not wanted until a replay
            emulator.org.publish_any("/u/news", f"old {i}")
        emulator.org.clock.offset = 0.0
        await window.profiles.open_profile(profile, DEMO_SECRETS)
        await wait_until(lambda: channels_live(window))
        yield emulator
        await window.controller.disconnect_profile()


async def test_replay_brings_events_from_before_the_start_once_in_time_order(
    window: MainWindow, emulated: Emulator, store: CaptureStore
) -> None:
    emulated.org.publish_any("/u/news", "new 0")
    await wait_until(lambda: window.model.rowCount() == 1)
    window.sidebar.list.setCurrentRow(0)
    window.replay_action.trigger()
    await wait_until(lambda: window.status.activity().startswith("Replayed"), timeout=20)
    # every retained event came again: the five missed ones and the one already captured
    assert window.status.activity() == "Replayed 6 events on 1 channel, 1 already captured"
    assert window.model.rowCount() == 6
    window.replay_action.trigger()  # twice: still each event once, and it says so
    await wait_until(lambda: window.status.activity().startswith("Replaying"))
    await wait_until(lambda: window.status.activity().startswith("Replayed"), timeout=20)
    assert window.status.activity() == "Replayed 6 events on 1 channel, 6 already captured"
    await window.model.settle()
    texts = [window.model.index(i, 5).data() for i in range(window.model.rowCount())]
    # the replayed events are older: they land before the live one, not at the bottom
    assert texts == ["old 0", "old 1", "old 2", "old 3", "old 4", "new 0"]


async def test_status_on_restart_and_revocation(window: MainWindow, emulated: Emulator) -> None:
    seen: list[str] = []
    window.controller.state_changed.connect(lambda _s, text, _in: seen.append(text))
    window.controller.problem.connect(lambda _source, text: seen.append(text))
    emulated.restart()
    emulated.org.publish_any("/u/news", "after restart")
    await wait_until(lambda: window.model.rowCount() == 1)
    assert "Reconnecting" in seen
    await wait_until(lambda: window.status.state_label.text() == "Live")
    assert window.status.problem() == ""  # the connection recovered: its problem is gone
    await wait_until(lambda: window.status.state_label.text() == "Live")
    seen.clear()
    emulated.revoke_tokens()
    emulated.expire_sessions()
    emulated.org.publish_any("/u/news", "after revocation")
    await wait_until(lambda: window.model.rowCount() == 2, timeout=20)
    assert any("401" in t or "Unknown client" in t for t in seen), seen
    await wait_until(lambda: window.status.state_label.text() == "Live")


async def test_remove_a_channel_from_the_sidebar(
    window: MainWindow, emulated: Emulator, store: CaptureStore
) -> None:
    emulated.org.publish_any("/u/other", "kept")
    await wait_until(lambda: window.model.rowCount() == 1)
    window.sidebar.list.setCurrentRow(1)
    window.sidebar.remove_requested.emit("/u/other")
    await wait_until(lambda: isinstance(window.dialogs.current, QMessageBox))
    box = window.dialogs.current
    keep = next(b for b in box.buttons() if b.text() == "Remove, keep events")
    keep.click()
    await wait_until(lambda: window.sidebar.channels() == ["/u/news"])
    assert [s.channel for s in store.subscriptions(window.profile.id)] == ["/u/news"]  # type: ignore[union-attr]
    emulated.org.publish_any("/u/other", "not captured")
    emulated.org.publish_any("/u/news", "captured")
    # events come in publish order: once "captured" is here, "not captured" would be too
    await wait_until(lambda: window.model.rowCount() == 2)
    await window.model.settle()
    assert sorted(window.model.index(i, 5).data() for i in range(2)) == ["captured", "kept"]


async def test_replay_ids_that_start_over_keep_the_new_events_and_say_so(
    window: MainWindow, store: CaptureStore
) -> None:
    """A sandbox refresh (here: a fresh emulator on another port) starts the replay ids
    over: the new events are different events, kept, and the window says what happened."""
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as first:
        profile = save_emulator_profile(store, first.url, ("/u/news",), "Sandbox")
        await window.profiles.open_profile(profile, DEMO_SECRETS)
        await wait_until(lambda: channels_live(window), timeout=20)
        for i in range(3):
            first.org.publish_any("/u/news", f"before refresh {i}")
        await wait_until(lambda: window.model.rowCount() == 3)
        await window.controller.disconnect_profile()
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as refreshed:
        moved = replace(profile, login_url=refreshed.url)
        store.save_profile(moved)
        await window.profiles.open_profile(moved, DEMO_SECRETS)
        await wait_until(lambda: channels_live(window), timeout=20)
        for i in range(3):  # the same replay ids as before the refresh
            refreshed.org.publish_any("/u/news", f"after refresh {i}")
        await wait_until(lambda: "restarted" in window.status.activity(), timeout=20)
        await window.controller.disconnect_profile()
    texts = [r.summary for r in store.fetch(EventQuery(profile.id), limit=100)]
    assert sum("after refresh" in t for t in texts) == 3  # none dropped as a duplicate
    assert sum("before refresh" in t for t in texts) == 3
