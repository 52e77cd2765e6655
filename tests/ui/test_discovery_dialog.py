"""“Add channels…” over a real discovery of the emulator's demo and large orgs: the tree by
kind, search, counts, select all of a kind, channels already added, the replay choice, a
refused source as a status line, Refresh, and the dialog awaited the window's way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QDateTime, QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTreeWidgetItem, QWidget

from sfmonitor.discovery import Discovery, Kind, discover
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.ui.discovery_dialog import DiscoveryDialog, age_text
from sfmonitor.ui.discovery_tree import ChannelTree
from sfmonitor.ui.modal import Dialogs
from sfmonitor.ui.replay_choice import ALL, NEW, REPLAY_ID, TIME, ReplayChoice
from tests.discovery.conftest import LIMITED, login, users
from tests.helpers.waiting import wait_until

Discover = Callable[..., Awaitable[Discovery]]
ADDED = ("/topic/AccountUpdates", "/event/Order_Placed__e")


@pytest_asyncio.fixture
async def discovered() -> AsyncIterator[Discover]:
    """A real discovery of an emulator started with the given settings (stopped after)."""
    started: list[Emulator] = []

    async def run(username: str | None = None, **settings: Any) -> Discovery:
        settings.setdefault("catalog", "demo")
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        token = await (login(emu.url, username) if username else login(emu.url))
        return await discover(emu.url, token)

    yield run
    for emu in started:
        await emu.stop()


def shown(tree: ChannelTree, kind: Kind | None = None) -> list[str]:
    return [
        row.channel.channel
        for group in tree.groups.values()
        if kind is None or group.kind is kind
        for row in group.rows
        if not row.item.isHidden() and not group.item.isHidden()
    ]


def click_check(tree: ChannelTree, item: QTreeWidgetItem) -> None:
    """A mouse click on the item's checkbox, where the style draws it."""
    tree.scrollToItem(item)
    index = tree.indexFromItem(item, 0)
    option = QStyleOptionViewItem()
    tree.itemDelegate().initStyleOption(option, index)  # what the delegate draws
    option.rect = tree.visualRect(index)
    box = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, tree)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


@pytest.fixture
def window(qtbot: Any) -> Iterator[QWidget]:
    """The window the dialog opens over, as over the main window (closing the last window
    would quit the application, and the test's loop with it)."""
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.close()


def open_dialog(
    found: Discovery, window: QWidget, existing: tuple[str, ...] = ADDED
) -> DiscoveryDialog:
    dialog = DiscoveryDialog(found, existing, window)
    dialog.show()
    return dialog


@pytest.mark.asyncio
async def test_the_demo_org_as_a_tree_by_kind(discovered: Discover, window: QWidget) -> None:
    found = await discovered()
    dialog = open_dialog(found, window)
    tree = dialog.tree
    assert list(tree.groups) == [k for k in Kind if found.of_kind(k)]
    assert tree.topLevelItemCount() == len(tree.groups) == 7
    titles = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert titles[0] == "PushTopics  (5)" and titles[4] == "Change Data Capture  (13)"
    assert len(tree.rows) == len(found.channels) == 42
    notes = {ch: row.item.text(2) for ch, row in tree.rows.items()}
    assert notes["/topic/EscalatedCases"] == "inactive"
    assert notes["/data/AccountChangeEvent"] == "selected for CDC"
    assert notes["/data/TaskChangeEvent"] == "not selected for CDC"
    assert notes["/event/FlowExecutionErrorEvent"] == "Pub/Sub only"
    assert notes["/event/LoginEventStream"] == "enabled"
    assert notes["/event/ApiEventStream"] == "disabled"
    assert notes["/data/SalesEvents__chn"] == "2 members"
    # already in the profile: checked, disabled, said so, and not returned as chosen
    for channel in ADDED:
        item = tree.rows[channel].item
        assert item.checkState(0) == Qt.CheckState.Checked and item.isDisabled()
        assert notes[channel].startswith("already added")
    assert tree.chosen() == [] and not dialog.ok.isEnabled()
    tip = tree.rows["/topic/BigOpportunities"].item.toolTip(0)
    assert "FROM Opportunity WHERE Amount > 10000" in tip
    assert "Members: AccountChangeEvent" in tree.rows["/data/SalesEvents__chn"].item.toolTip(1)
    assert dialog.summary.text().startswith("42 channels in 127.0.0.1:")
    assert "discovered just now" in dialog.summary.text()
    assert not dialog.sources.isVisible()  # every source answered


@pytest.mark.asyncio
async def test_search_narrows_as_you_type_and_counts_follow(
    discovered: Discover, window: QWidget
) -> None:
    dialog = open_dialog(await discovered(), window)
    tree = dialog.tree
    QTest.keyClicks(dialog.search, "ACCOUNT")
    assert shown(tree) == [
        "/topic/AccountUpdates",  # by its channel name
        "/data/AccountChangeEvent",
    ]
    assert tree.groups[Kind.PUSH_TOPIC].item.text(0) == "PushTopics  (1 of 5)"
    assert tree.groups[Kind.CHANGE_EVENT].item.text(0) == "Change Data Capture  (1 of 13)"
    assert tree.groups[Kind.GENERIC].item.isHidden()  # no match in that kind
    assert dialog.summary.text().startswith("2 of 42 channels")
    # a label matches too ("All selected change events"), and every word must be found
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "all selected")
    assert shown(tree) == ["/data/ChangeEvents"]
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "ink low")
    assert shown(tree) == ["/event/Low_Ink__e"]
    # Down goes from the search to the first channel shown, Space checks it
    QTest.keyClick(dialog.search, Qt.Key.Key_Down)
    assert tree.currentItem() is tree.rows["/event/Low_Ink__e"].item
    QTest.keyClick(tree, Qt.Key.Key_Space)
    assert [c.channel for c in tree.chosen()] == ["/event/Low_Ink__e"]
    assert dialog.ok.text() == "&Add 1 channel" and dialog.ok.isEnabled()
    # Escape clears the search, and a chosen channel stays chosen (now shown again)
    QTest.keyClick(dialog.search, Qt.Key.Key_Escape)
    assert dialog.search.text() == "" and dialog.isVisible()
    assert len(shown(tree)) == 42
    assert tree.groups[Kind.PUSH_TOPIC].item.text(0) == "PushTopics  (5)"
    assert dialog.summary.text().endswith("· 1 chosen")
    # with nothing to clear, Escape closes the dialog
    QTest.keyClick(dialog.search, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == 0


@pytest.mark.asyncio
async def test_select_all_of_a_kind(discovered: Discover, window: QWidget) -> None:
    dialog = open_dialog(await discovered(), window)
    tree = dialog.tree
    topics = tree.groups[Kind.PUSH_TOPIC]
    click_check(tree, topics.item)
    assert topics.item.checkState(0) == Qt.CheckState.Checked
    chosen = [c.channel for c in tree.chosen()]
    assert chosen == [
        "/topic/BigOpportunities",
        "/topic/ContactChanges",
        "/topic/EscalatedCases",
        "/topic/WebLeads",
    ]  # fmt: skip  (not AccountUpdates: already added)
    assert dialog.ok.text() == "&Add 4 channels"
    # one unchecked with the mouse: the kind is partly chosen
    click_check(tree, tree.rows["/topic/WebLeads"].item)
    assert topics.item.checkState(0) == Qt.CheckState.PartiallyChecked
    assert len(tree.chosen()) == 3
    # clicking a partly chosen kind chooses all of it again; clicking again, none
    click_check(tree, topics.item)
    assert topics.item.checkState(0) == Qt.CheckState.Checked and len(tree.chosen()) == 4
    click_check(tree, topics.item)
    assert topics.item.checkState(0) == Qt.CheckState.Unchecked and tree.chosen() == []
    assert tree.rows["/topic/AccountUpdates"].item.checkState(0) == Qt.CheckState.Checked
    # with a search, "all of this kind" means all of it that is shown
    QTest.keyClicks(dialog.search, "zzz")
    assert shown(tree) == [] and dialog.summary.text().startswith("0 of 42 channels")
    dialog.search.clear()
    QTest.keyClicks(dialog.search, "o")
    QTest.keyClicks(dialog.search, "pportunity")
    cdc = tree.groups[Kind.CHANGE_EVENT]
    assert shown(tree, Kind.CHANGE_EVENT) == ["/data/OpportunityChangeEvent"]
    tree.setCurrentItem(cdc.item)
    QTest.keyClick(tree, Qt.Key.Key_Space)  # the keyboard works on a kind too
    assert [c.channel for c in tree.chosen()] == ["/data/OpportunityChangeEvent"]
    dialog.search.clear()
    assert cdc.item.checkState(0) == Qt.CheckState.PartiallyChecked
    assert cdc.item.text(0) == "Change Data Capture  (13)"
    # a kind whose every channel is already added cannot be chosen again
    only = open_dialog(await discovered(), window, existing=("/u/deployments",))
    QTest.keyClicks(only.search, "deploy")
    generic = only.tree.groups[Kind.GENERIC].item
    assert generic.checkState(0) == Qt.CheckState.Checked
    assert not generic.flags() & Qt.ItemFlag.ItemIsUserCheckable


@pytest.mark.asyncio
async def test_the_replay_choice_and_its_checks(discovered: Discover, window: QWidget) -> None:
    dialog = open_dialog(await discovered(), window)
    replay = dialog.replay
    click_check(dialog.tree, dialog.tree.rows["/event/Low_Ink__e"].item)
    assert dialog.value().replay == ReplayChoice(NEW) and dialog.value().replay.policy == "new"
    QTest.mouseClick(replay.all, Qt.MouseButton.LeftButton)
    assert dialog.value().replay == ReplayChoice(ALL) and dialog.value().replay.policy == "all"
    # a replay id: checked as typed, and the dialog does not close on a bad one
    QTest.mouseClick(replay.after_id, Qt.MouseButton.LeftButton)
    assert replay.replay_id.isEnabled() and not replay.error.isVisible()
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and replay.error.text() == "Enter the replay id to start after."
    QTest.keyClicks(replay.replay_id, "12x")
    assert "whole number from 1 to 9,223,372,036,854,775,807" in replay.error.text()
    replay.replay_id.clear()
    QTest.keyClicks(replay.replay_id, str(2**63))  # over a Java long
    assert replay.error.isVisible()
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    replay.replay_id.clear()
    QTest.keyClicks(replay.replay_id, "0")
    assert replay.error.isVisible()
    replay.replay_id.clear()
    QTest.keyClicks(replay.replay_id, "11223344")
    assert not replay.error.isVisible()
    choice = dialog.value().replay
    assert choice == ReplayChoice(REPLAY_ID, replay_id=11223344) and choice.policy == "11223344"
    assert not replay.note.isVisible()  # one channel: no word about ids per channel
    click_check(dialog.tree, dialog.tree.rows["/event/Demo_Event__e"].item)
    assert "belongs to one channel" in replay.note.text()
    # a time: epoch milliseconds; not in the future; before the retention, said so
    QTest.mouseClick(replay.since, Qt.MouseButton.LeftButton)
    when = QDateTime.currentDateTime().addSecs(-7200)
    when = when.addMSecs(-when.time().msec())
    replay.time.setDateTime(when)
    choice = dialog.value().replay
    assert choice.mode == TIME and choice.policy is None
    assert choice.since_ms == when.toMSecsSinceEpoch()
    assert abs(choice.since_ms - (time.time() - 7200) * 1000) < 120_000
    replay.time.setDateTime(QDateTime.currentDateTime().addDays(1))
    assert replay.error.isVisible() and "in the future" in replay.error.text()
    with pytest.raises(ValueError, match="in the future"):
        dialog.value()
    replay.time.setDateTime(QDateTime.currentDateTime().addDays(-4))
    assert not replay.error.isVisible() and "72 hours at most" in replay.note.text()
    QTest.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result() == 1
    picked = dialog.value()
    assert picked.names == ["/event/Demo_Event__e", "/event/Low_Ink__e"]
    assert {c.kind for c in picked.channels} == {Kind.PLATFORM_EVENT}


@pytest.mark.asyncio
async def test_a_refused_source_is_a_status_line(discovered: Discover, window: QWidget) -> None:
    found = await discovered(LIMITED, users=users())  # a user without View Setup
    assert found.failed
    dialog = open_dialog(found, window)
    lines = dialog.sources.text().splitlines()
    assert dialog.sources.isVisible() and len(lines) == 3
    assert all("needs the View Setup and Configuration permission" in t for t in lines)
    assert lines[0] == "Custom channels: needs the View Setup and Configuration permission"
    assert "INVALID_TYPE: sObject type 'PlatformEventChannel'" in dialog.sources.toolTip()
    # what could be found is shown all the same
    assert Kind.PUSH_TOPIC in dialog.tree.groups and Kind.CUSTOM_CHANNEL not in dialog.tree.groups
    assert dialog.tree.rows["/data/AccountChangeEvent"].item.text(2) == ""  # selection unknown


@pytest.mark.asyncio
async def test_refresh_keeps_the_choice_and_a_large_org_is_whole(
    discovered: Discover, window: QWidget
) -> None:
    small = await discovered()
    dialog = open_dialog(small, window)
    asked: list[int] = []
    dialog.refresh_requested.connect(lambda: asked.append(1))
    click_check(dialog.tree, dialog.tree.rows["/u/deployments"].item)
    QTest.keyClicks(dialog.search, "generated")
    QTest.mouseClick(dialog.refresh, Qt.MouseButton.LeftButton)
    assert asked == [1] and dialog.busy.isVisible() and not dialog.refresh.isEnabled()
    dialog.refresh_failed("TransportError: the org did not answer")
    assert dialog.failure.isVisible() and dialog.refresh.isEnabled()
    assert not dialog.busy.isVisible() and len(dialog.tree.rows) == 42  # the list is kept
    QTest.mouseClick(dialog.refresh, Qt.MouseButton.LeftButton)
    assert not dialog.failure.isVisible()
    large = await discovered(catalog="large")
    dialog.set_discovery(large)
    tree = dialog.tree
    assert not dialog.busy.isVisible() and dialog.refresh.isEnabled()
    assert len(tree.rows) == len(large.channels) >= 600
    assert [c.channel for c in tree.chosen()] == ["/u/deployments"]  # kept over the refresh
    # the search typed before the refresh still applies
    counts = {kind: tree.count_text(kind) for kind in tree.groups}
    assert counts[Kind.PLATFORM_EVENT] == "150 of 154"
    assert counts[Kind.GENERIC] == "60 of 63"
    assert counts[Kind.CUSTOM_CHANNEL] == "12 of 14"
    assert tree.groups[Kind.PUSH_TOPIC].item.isHidden()
    QTest.keyClicks(dialog.search, " event_01")
    events = shown(tree, Kind.PLATFORM_EVENT)
    assert events == [f"/event/Generated_Event_{i:03d}__e" for i in range(10, 20)]
    click_check(tree, tree.groups[Kind.PLATFORM_EVENT].item)
    assert len(tree.chosen()) == 11 and dialog.ok.text() == "&Add 11 channels"
    dialog.search.clear()
    assert len(shown(tree)) == len(large.channels)
    assert tree.count_text(Kind.CHANGE_EVENT) == "313"
    assert not tree.groups[Kind.CHANGE_EVENT].item.isExpanded()  # 313 rows start folded


@pytest.mark.asyncio
async def test_opened_and_awaited_without_a_nested_loop(
    discovered: Discover, window: QWidget, tmp_path: Path
) -> None:
    dialogs = Dialogs(window, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = DiscoveryDialog(None, ADDED, window)  # no discovery cached yet
    answer = asyncio.ensure_future(dialogs.run(dialog))
    await wait_until(dialog.isVisible)
    assert dialog.busy.isVisible() and not dialog.refresh.isEnabled()
    assert dialog.summary.text() == "No channels discovered yet." and not dialog.ok.isEnabled()
    dialog.set_discovery(await discovered())  # the caller's discovery, while it is open
    QTest.keyClick(dialog.search, Qt.Key.Key_Return)  # nothing chosen: nothing to add
    assert dialog.isVisible()
    click_check(dialog.tree, dialog.tree.rows["/data/ChangeEvents"].item)
    QTest.keyClick(dialog.search, Qt.Key.Key_Return)
    assert await answer == 1
    assert dialog.value().names == ["/data/ChangeEvents"]


def test_the_age_of_a_discovery() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert age_text("2026-12-01T11:59:30+00:00", now) == "discovered just now"
    assert age_text("2026-12-01T11:58:00+00:00", now) == "discovered 2 minutes ago"
    assert age_text("2026-12-01T10:30:00Z", now) == "discovered 1 hour ago"
    assert age_text("2026-11-28T12:00:00", now) == "discovered 3 days ago"
    assert age_text("yesterday", now) == ""


def test_click_helper_hits_the_box(qtbot: Any) -> None:
    """The helper clicks the checkbox, not the row (a row click must not toggle)."""
    tree = ChannelTree()
    qtbot.addWidget(tree)
    tree.show()
    found = Discovery.from_json(
        '{"format": 1, "instance_url": "https://x", "api_version": "62.0", '
        '"discovered_at": "2026-12-01T00:00:00+00:00", "channels": [{"kind": "generic", '
        '"channel": "/u/a", "label": "a"}], "sources": []}'
    )
    tree.set_discovery(found, (), set())
    item = tree.rows["/u/a"].item
    row = tree.visualItemRect(item)
    QTest.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(row.right() - 5, row.center().y())
    )
    assert item.checkState(0) == Qt.CheckState.Unchecked
    click_check(tree, item)
    assert item.checkState(0) == Qt.CheckState.Checked
