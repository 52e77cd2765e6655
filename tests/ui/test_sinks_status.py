"""The window runs the sinks saved on the profile it captures and shows them in the status
bar: "sinks: 1 ok, 1 retrying / lag 50", each sink in the tooltip, a sink that is down as
a problem that goes once it forwards again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio


async def test_the_sinks_of_the_profile_run_and_show_in_the_status_bar(
    window: MainWindow, store: CaptureStore, tmp_path: Path
) -> None:
    up, down = tmp_path / "up", tmp_path / "down"  # "down" is missing: that sink is retried
    up.mkdir()
    urls = [f"ndjson://{up}/events.ndjson", f"ndjson://{down}/events.ndjson"]
    label = window.status.sinks_label
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emulator:
        profile = save_emulator_profile(store, emulator.url, ("/u/news",))
        assert profile.id is not None
        for url in urls:
            store.save_sink(profile.id, url, url)
        assert not label.isVisible()
        await window.profiles.open_profile(profile, DEMO_SECRETS)
        await wait_until(lambda: "live" in window.sidebar.list.item(0).text(), timeout=20)
        for i in range(50):
            emulator.org.publish_any("/u/news", f"event {i}")
        await wait_until(lambda: label.text() == "sinks: 1 ok, 1 retrying / lag 50", 20)
        assert label.isVisible()
        tooltip = label.toolTip()
        assert f"{urls[0]}: forwarding, 0 event(s) behind, 50 forwarded" in tooltip
        assert f"{urls[1]}: retrying" in tooltip and "cannot open" in tooltip
        assert f"sink {urls[1]}: " in window.status.problem()
        window.grab().save(str(tmp_path / "sinks.png"))
        down.mkdir()  # the sink comes back: it catches up, its problem goes
        await wait_until(lambda: label.text() == "sinks: 2 ok", 20)
        await wait_until(lambda: "sink" not in window.status.problem(), 5)
        await window.disconnect_profile()
        await wait_until(lambda: not label.isVisible(), 5)
    for folder in (up, down):
        assert len((folder / "events.ndjson").read_bytes().splitlines()) == 50


async def test_deleting_a_profile_deletes_its_sinks_passwords(
    window: MainWindow, store: CaptureStore
) -> None:
    profile = save_emulator_profile(store, "http://127.0.0.1:9", ("/u/news",), "Team")
    assert profile.id is not None
    pg = "postgresql://sfm@db.example/events?table=sf_events"
    store.save_sink(profile.id, pg, pg)
    window.vault.save_sink_secret(profile.id, pg, "Pg-Window-Secret-5")
    await window.profiles.open_profile(profile, None)
    window.delete_profile_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, QMessageBox))
    box: Any = window.dialogs.current
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.profile is None)
    assert window.vault.load_sink_secret(profile.id, pg) is None
