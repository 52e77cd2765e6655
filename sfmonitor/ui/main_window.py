"""The main window: channels on the left; filter bar, events table and detail on the right;
connection state, the last problem, rate and totals in the status bar.

This module lays the window out and wires it; what happens on a click lives in one module
per flow (``profiles_flow``, ``channels_flow``, ``export_flow``, ``follow``), and every
dialog is awaited through ``modal.Dialogs`` (never a nested event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.store import CaptureStore, CredentialVault, Environment, EventQuery, Profile
from sfmonitor.store.timeline import Timeline
from sfmonitor.streaming import ConnectionState

from .channel_colors import ChannelColors
from .channels_flow import ChannelsFlow, channel_transports
from .controller import MonitorController
from .detail_tabs import DetailTabs
from .discovery_flow import DiscoveryFlow
from .events_model import EventsModel
from .export_flow import ExportFlow
from .filter_bar import FilterBar
from .follow import FollowTail
from .limits_flow import LimitsFlow
from .looks import Looks
from .modal import Dialogs
from .org_access import OrgAccess
from .profiles_flow import ProfilesFlow
from .publish_flow import PublishFlow
from .resources import app_icon, icon
from .sidebar import ChannelSidebar
from .sinks_status import SinkStatus
from .status_bar import StatusBar
from .tasks import Tasks
from .timeline import TimelineStrip
from .welcome import Welcome
from .worker import Worker

log = logging.getLogger(__name__)
DemoStarter = Callable[[CaptureStore], Awaitable[Any]]
SHUTDOWN_TIMEOUT = 20.0


class MainWindow(QMainWindow):
    def __init__(
        self,
        store: CaptureStore,
        vault: CredentialVault,
        settings: QSettings,
        worker: Worker | None = None,
        start_demo: DemoStarter | None = None,
    ) -> None:
        super().__init__()
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.store = store
        self.vault = vault
        self.settings = settings
        self.worker = worker or Worker()
        self.start_demo = start_demo  # from the composition root (app.py); None: no demo
        self.controller = MonitorController(store, self.worker, vault)
        self.channel_colors = ChannelColors()  # stable per name; a person's choice per profile
        self.model = EventsModel(store, self.worker, self.channel_colors)
        self.dialogs = Dialogs(self, settings)
        self.tasks = Tasks(on_error=lambda text: self.status.show_problem("", text))
        self.profile: Profile | None = None
        self.demo: Any = None
        self._closing = False
        self._closed = False
        self._counting = False
        self._make_actions()
        self._make_menus()
        self._make_central()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.follow = FollowTail(self.table, self.pause_action, self.badge)
        self.model.following = lambda: self.follow.following and not self.follow.paused
        self.profiles = ProfilesFlow(self)
        self.channels = ChannelsFlow(self)
        self.exports = ExportFlow(self)
        self.sink_status = SinkStatus(self)
        self.looks = Looks(self)  # colours, rates, columns, timeline, View and Help menus
        self.access = OrgAccess(self)
        self.discovery = DiscoveryFlow(self)
        self.limits = LimitsFlow(self)
        self.publishing = PublishFlow(self)
        self._wire()
        self._restore_layout()
        self._show_title()
        self.update_actions()

    # --- layout --------------------------------------------------------------------------

    def _action(self, text: str, icon_name: str = "", shortcut: Any = None) -> QAction:
        action = QAction(icon(icon_name), text, self) if icon_name else QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _make_actions(self) -> None:
        self.connect_action = self._action("Connect", "connect")
        self.connect_action.setToolTip("Connect the profile shown, or set up a new one")
        self.disconnect_action = self._action("Disconnect", "disconnect")
        self.add_channels_action = self._action("Add channels…", "add-channel", "Ctrl+Shift+N")
        self.add_channel_action = self._action("Add by name…", "", "Ctrl+N")
        self.publish_action = self._action("Publish…", "", "Ctrl+Shift+P")
        self.replay_action = self._action("Replay last 24 hours", "replay", "Ctrl+R")
        self.pause_action = self._action("Pause view", "pause", Qt.Key.Key_Space)
        self.pause_action.setCheckable(True)
        self.export_action = self._action("Export…", "export", "Ctrl+E")
        self.import_action = self._action("Open an export…", "import", "Ctrl+O")
        self.find_action = self._action("Filter", "", QKeySequence.StandardKey.Find)
        self.addAction(self.find_action)
        self.new_profile_action = self._action("New connection…")
        self.demo_action = self._action("Try the demo")
        self.edit_profile_action = self._action("Edit profile…")
        self.duplicate_profile_action = self._action("Duplicate profile…")
        self.delete_profile_action = self._action("Delete profile…")
        self.auto_connect_action = self._action("Connect to the last profile at launch")
        self.auto_connect_action.setCheckable(True)
        self.auto_connect_action.setChecked(
            bool(self.settings.value("auto_connect", False, type=bool))
        )
        self.quit_action = self._action("Quit", "", "Ctrl+Q")

    def _make_menus(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (
            self.connect_action,
            self.disconnect_action,
            self.add_channels_action,
            self.replay_action,
            self.pause_action,
            self.export_action,
        ):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.profiles_menu = QMenu("&Profiles", self)
        self.menuBar().addMenu(self.profiles_menu)
        file_menu = self.menuBar().addMenu("&File")
        for action in (self.export_action, self.import_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        channel_menu = self.menuBar().addMenu("&Channels")
        for action in (self.add_channels_action, self.add_channel_action, self.publish_action):
            channel_menu.addAction(action)
        channel_menu.addAction(self.replay_action)

    def _make_central(self) -> None:
        self.sidebar = ChannelSidebar(self.channel_colors)
        self.filter_bar = FilterBar()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        self.badge = QPushButton()
        self.detail = DetailTabs(self.store, self.worker)
        self.timeline = TimelineStrip(Timeline(self.store), self.worker, self.channel_colors)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.filter_bar)
        top_layout.addWidget(self.timeline)
        top_layout.addWidget(self.table)
        top_layout.addWidget(self.badge, alignment=Qt.AlignmentFlag.AlignRight)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(top)
        self.right_splitter.addWidget(self.detail)
        self.right_splitter.setSizes([560, 240])
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(self.sidebar)
        self.main_splitter.addWidget(self.right_splitter)
        self.main_splitter.setSizes([340, 940])  # chip, badge, counts, sparkline
        self.welcome = Welcome()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.main_splitter)
        self.setCentralWidget(self.stack)

    def _wire(self) -> None:
        spawn, profiles, channels = self.tasks.spawn, self.profiles, self.channels
        self.connect_action.triggered.connect(lambda: spawn(profiles.connect_clicked()))
        self.new_profile_action.triggered.connect(lambda: spawn(profiles.new_profile()))
        self.welcome.connect_button.clicked.connect(lambda: spawn(profiles.new_profile()))
        self.demo_action.triggered.connect(lambda: spawn(profiles.start_demo()))
        self.welcome.demo_button.clicked.connect(lambda: spawn(profiles.start_demo()))
        self.edit_profile_action.triggered.connect(lambda: spawn(profiles.edit_current()))
        self.duplicate_profile_action.triggered.connect(lambda: spawn(profiles.duplicate_current()))
        self.delete_profile_action.triggered.connect(lambda: spawn(profiles.delete_current()))
        self.disconnect_action.triggered.connect(lambda: spawn(self.disconnect_profile()))
        self.add_channel_action.triggered.connect(lambda: spawn(channels.add()))
        self.add_channels_action.triggered.connect(lambda: spawn(self.discovery.add_channels()))
        self.publish_action.triggered.connect(lambda: spawn(self.publishing.publish()))
        self.replay_action.triggered.connect(
            lambda: spawn(channels.replay(self.sidebar.selected() or self.sidebar.channels()))
        )
        self.export_action.triggered.connect(lambda: spawn(self.exports.export()))
        self.import_action.triggered.connect(lambda: spawn(self.exports.import_capture()))
        self.quit_action.triggered.connect(self.close)
        self.find_action.triggered.connect(self.looks.find)  # the filter, or the JSON's
        self.auto_connect_action.toggled.connect(
            lambda on: self.settings.setValue("auto_connect", on)
        )
        self.sidebar.selection_changed.connect(lambda _c: self.apply_filter())
        self.sidebar.menu_actions = [self.add_channels_action, self.publish_action]
        self.sidebar.remove_requested.connect(lambda ch: spawn(channels.remove(ch)))
        self.sidebar.replay_requested.connect(lambda chs: spawn(channels.replay(chs)))
        self.filter_bar.changed.connect(self.apply_filter)
        self.filter_bar.invalid.connect(lambda _text: self.model.set_stale(True))
        self.model.filter_error.connect(self.filter_bar.show_error)
        self.model.count_changed.connect(lambda n: self.status.show_totals(shown=n))
        self.model.rows_appended.connect(self.follow.rows_appended)
        self.model.modelReset.connect(self.follow.jump_to_newest)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._wire_controller()
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _wire_controller(self) -> None:
        c, status = self.controller, self.status
        c.state_changed.connect(lambda *_: self._show_state())
        c.channel_changed.connect(self._channel_changed)
        c.events_stored.connect(self._events_stored)
        c.problem.connect(status.show_problem)
        c.gap_recorded.connect(lambda ch, text: status.show_activity(f"Gap on {ch}: {text}"))
        c.activity.connect(status.show_activity)
        c.identity_known.connect(self.profiles.identity_known)
        status.reconnect_requested.connect(lambda: self.tasks.spawn(self.reconnect_now()))

    # --- profiles ------------------------------------------------------------------------

    async def show_profile(self, profile: Profile | None) -> None:
        """Put ``profile``'s capture on screen (None: the welcome page)."""
        self.profile = profile
        if profile is None:
            self.sidebar.set_channels([])
            self.status.show_profile("No profile", "", False)
            self.stack.setCurrentWidget(self.welcome)
        else:
            assert profile.id is not None
            subs = await self.worker.run(self.store.subscriptions, profile.id)
            self.sidebar.set_channels([s.channel for s in subs], channel_transports(profile, subs))
            self.status.show_profile(profile.name, where_of(profile), profile.is_production)
            self.stack.setCurrentIndex(1)
            self.settings.setValue("last_profile", profile.name)
        self.looks.show_profile(profile, self.sidebar.channels())
        self.status.forget_totals()
        self.status.clear_channel_problems(set())
        self._show_title()
        self._show_state()
        self.apply_filter()

    def show_identity(self) -> None:
        """Who and where the profile on screen logs in, and whether the org is production."""
        profile = self.profile
        if profile is not None:
            self.status.show_profile(profile.name, where_of(profile), profile.is_production)
        self._show_title()

    def _show_title(self) -> None:
        profile = self.profile
        title = "sfmonitor" if profile is None else f"sfmonitor — {profile.name}"
        if profile is not None and profile.is_production:
            title += " [PRODUCTION]"
        self.setWindowTitle(title)

    async def disconnect_profile(self) -> None:
        await self.controller.disconnect_profile()
        self.sidebar.set_all_status("offline")
        self.update_actions()

    async def reconnect_now(self) -> None:
        if self.controller.profile is not None and self.controller.profile == self.profile:
            await self.controller.reconnect_now()
        elif self.profile is not None:
            await self.profiles.open_saved(self.profile)

    # --- table, filter, detail -----------------------------------------------------------

    def current_query(self) -> EventQuery:
        pid = self.profile.id if self.profile and self.profile.id is not None else -1
        query = EventQuery(
            pid,
            text=self.filter_bar.filter_text(),
            channels=frozenset(self.sidebar.selected()),
            kinds=self.filter_bar.kinds(),
            since_ms=self.filter_bar.since_ms(),
        )
        return self.looks.query(query)

    def apply_filter(self) -> None:
        self.detail.clear()
        self.model.set_query(self.current_query())

    def _selection_changed(self, _new: QItemSelection, _old: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        row = self.model.row_at(rows[-1].row())
        if row is not None:
            self.tasks.spawn(self.show_detail(row.id))

    async def show_detail(self, event_id: int) -> None:
        row = await self.worker.run(self.store.event, event_id)
        if row is not None:
            title = f"{row.channel} · replay id {row.replay_id} · {row.change}"
            self.detail.show_event(title, row.raw, row.id)

    # --- status --------------------------------------------------------------------------

    def _show_state(self) -> None:
        """The connection's state; while another profile is on screen, whose it is."""
        c = self.controller
        state, text, retry_in = c.state, c.state_text, c.retry_in
        if c.profile is not None and not c.capturing(self.profile) and c.connected:
            text = f"{c.profile.name}: {text}"
        elif not c.capturing(self.profile):
            state, text, retry_in = ConnectionState.STOPPED, "Not connected", 0.0
        self.status.show_state(state, text, retry_in)
        if state in (ConnectionState.STOPPED, ConnectionState.FAILED):
            self.sidebar.set_all_status("offline")
        self.update_actions()

    def _events_stored(self, count: int) -> None:
        self.model.new_rows_stored()
        self.looks.events_stored()
        if self.controller.capturing(self.profile):
            self.status.add_captured(count)

    def _channel_changed(self, channel: str, status: str, error: str) -> None:
        if self.controller.capturing(self.profile):
            self.sidebar.set_status(channel, status, error)

    def _tick(self) -> None:
        self.status.show_rate(self.controller.rate)
        self.sink_status.refresh()
        if self.profile is not None and self.profile.id is not None and not self._counting:
            self._counting = True
            self.tasks.spawn(self._refresh_counts(self.profile.id))

    async def _refresh_counts(self, profile_id: int) -> None:
        """Per-channel counts (a scan of an index: every second, never two at once)."""
        try:
            counts = await self.worker.run(self.store.channel_counts, profile_id)
        finally:
            self._counting = False
        if self.profile is None or self.profile.id != profile_id:
            return  # another profile meanwhile
        self.sidebar.set_counts(counts)
        self.looks.tick(counts)
        self.status.show_totals(captured=sum(counts.values()))

    def update_actions(self) -> None:
        c = self.controller
        profile = self.profile
        writable = profile is not None and not profile.read_only
        editable = writable and profile is not None and profile.environment != Environment.DEMO
        shown_connected = c.connected and c.capturing(profile)
        self.connect_action.setEnabled(not (writable and shown_connected))
        self.disconnect_action.setEnabled(c.connected)
        for action in (self.add_channel_action, self.add_channels_action, self.publish_action):
            action.setEnabled(writable)
        self.replay_action.setEnabled(writable and c.live and c.capturing(profile))
        self.export_action.setEnabled(profile is not None)
        self.edit_profile_action.setEnabled(editable)
        self.duplicate_profile_action.setEnabled(editable)
        self.delete_profile_action.setEnabled(profile is not None)

    # --- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self.tasks.spawn(self.shutdown())

    def _restore_layout(self) -> None:
        s = self.settings
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/main_splitter", self.main_splitter.restoreState),
            ("window/right_splitter", self.right_splitter.restoreState),
        ):
            value = s.value(key)
            if value is not None:
                restore(value)

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/main_splitter", self.main_splitter.saveState())
        s.setValue("window/right_splitter", self.right_splitter.saveState())
        self.looks.save()
        s.sync()

    async def shutdown(self) -> None:
        """Close open dialogs, disconnect (writing everything received), stop the demo,
        then close. Bounded: a stuck step cannot keep the process alive."""
        self.timer.stop()
        self.save_layout()
        await self.tasks.cancel_all()
        try:
            await asyncio.wait_for(self._stop_everything(), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            log.error("shutdown took over %.0f s; closing anyway", SHUTDOWN_TIMEOUT)
        self._closed = True
        self.close()

    async def _stop_everything(self) -> None:
        await self.controller.disconnect_profile()
        await self.access.close()
        if self.demo is not None:
            with contextlib.suppress(Exception):
                await self.demo.emulator.stop()
            self.demo = None
        await self.model.settle()
        await self.timeline.settle()
        await self.detail.settle()
        await self.worker.run(self.timeline.timeline.close)


def where_of(profile: Profile) -> str:
    """A short line for the status bar: what the profile captures from."""
    if profile.read_only:
        return f"opened export {Path(profile.source).name}" if profile.source else "opened export"
    if profile.environment is Environment.DEMO:
        return "demo (built-in emulator)"
    if profile.org.line():  # ada@acme.com · Acme Corp (production), as the org said
        return profile.org.line()
    return profile.login_url.removeprefix("https://") or f"sf org {profile.sf_org}"
