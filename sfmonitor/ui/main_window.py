"""The main window: channels on the left; filter bar, events table and detail on the right;
connection state, rate, totals and the last server error in the status bar."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.store import (
    CaptureStore,
    CredentialVault,
    EventQuery,
    KeyringUnavailableError,
    Profile,
    Secrets,
)
from sfmonitor.streaming import StreamingError

from .controller import MonitorController
from .detail import DetailPane
from .dialogs import ChannelDialog, ProfileDialog
from .events_model import COLUMNS, EventsModel
from .export_flow import SCOPES, choose_scope, run_export, run_import
from .filter_bar import FilterBar
from .resources import app_icon, icon
from .sidebar import ChannelSidebar
from .worker import Worker

log = logging.getLogger(__name__)


class Welcome(QWidget):
    """Shown on a first run, when there is no profile yet."""

    def __init__(self) -> None:
        super().__init__()
        title = QLabel("<h2>Welcome to sfmonitor</h2>")
        text = QLabel(
            "Watch PushTopics, Platform Events, Change Data Capture and generic streaming "
            "events as they arrive. Every event is stored, and capture resumes where it stopped."
        )
        text.setWordWrap(True)
        self.connect_button = QPushButton("Connect to an org…")
        self.demo_button = QPushButton("Try the demo")
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addStretch()
        layout.addWidget(title, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(text)
        layout.addLayout(buttons)
        layout.addStretch()


class MainWindow(QMainWindow):
    def __init__(
        self,
        store: CaptureStore,
        vault: CredentialVault,
        settings: QSettings,
        worker: Worker | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("sfmonitor")
        self.setWindowIcon(app_icon())
        self.resize(1280, 800)
        self.store = store
        self.vault = vault
        self.settings = settings
        self.worker = worker or Worker()
        self.controller = MonitorController(store, self.worker)
        self.model = EventsModel(store, self.worker)
        self.profile: Profile | None = None
        self.demo: Any = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._closing = False
        self._closed = False
        self.unseen = 0
        self.follow = True
        self.open_dialog: Any = None
        self._ticks = 0
        self._counting = False
        self._build()
        self._wire()
        self._restore_layout()

    # --- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.connect_action = QAction(icon("connect"), "Connect…", self)
        self.disconnect_action = QAction(icon("disconnect"), "Disconnect", self)
        self.add_channel_action = QAction(icon("add-channel"), "Add channel…", self)
        self.add_channel_action.setShortcut(QKeySequence("Ctrl+N"))
        self.replay_action = QAction(icon("replay"), "Replay last 24 hours", self)
        self.replay_action.setShortcut(QKeySequence("Ctrl+R"))
        self.pause_action = QAction(icon("pause"), "Pause view", self)
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.export_action = QAction(icon("export"), "Export…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.import_action = QAction(icon("import"), "Open an export…", self)
        self.find_action = QAction("Filter", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.addAction(self.find_action)
        self.demo_action = QAction("Try the demo", self)
        self.auto_connect_action = QAction("Connect to the last profile at launch", self)
        self.auto_connect_action.setCheckable(True)
        self.auto_connect_action.setChecked(
            bool(self.settings.value("auto_connect", False, type=bool))
        )
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (
            self.connect_action,
            self.disconnect_action,
            self.add_channel_action,
            self.replay_action,
            self.pause_action,
            self.export_action,
        ):
            toolbar.addAction(action)
        self.addToolBar(toolbar)

        self.profiles_menu = QMenu("&Profiles", self)
        self.menuBar().addMenu(self.profiles_menu)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence("Ctrl+Q"), self.close)
        channel_menu = self.menuBar().addMenu("&Channels")
        channel_menu.addAction(self.add_channel_action)
        channel_menu.addAction(self.replay_action)

        self.sidebar = ChannelSidebar()
        self.filter_bar = FilterBar()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((150, 200, 110, 120, 130)):
            self.table.setColumnWidth(column, width)
        self.badge = QPushButton()
        self.badge.setFlat(True)
        self.badge.hide()
        self.detail = DetailPane()

        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.filter_bar)
        top_layout.addWidget(self.table)
        top_layout.addWidget(self.badge, alignment=Qt.AlignmentFlag.AlignRight)
        right.addWidget(top)
        right.addWidget(self.detail)
        right.setSizes([560, 240])
        self.right_splitter = right
        main = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter = main
        main.addWidget(self.sidebar)
        main.addWidget(right)
        main.setSizes([260, 1020])
        self.welcome = Welcome()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(main)
        self.setCentralWidget(self.stack)

        self.profile_label = QLabel("No profile")
        self.state_label = QLabel("Disconnected")
        self.rate_label = QLabel("0 events/s")
        self.total_label = QLabel("0 captured")
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #cf222e")
        for label in (self.profile_label, self.state_label, self.error_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
        bar = self.statusBar()
        bar.addWidget(self.profile_label)
        bar.addWidget(self.state_label)
        bar.addWidget(self.error_label, 1)
        bar.addPermanentWidget(self.rate_label)
        bar.addPermanentWidget(self.total_label)
        self._update_actions()

    def _wire(self) -> None:
        c = self.controller
        self.connect_action.triggered.connect(lambda: self.spawn(self.new_profile()))
        self.disconnect_action.triggered.connect(lambda: self.spawn(self.disconnect_profile()))
        self.add_channel_action.triggered.connect(lambda: self.spawn(self.add_channel()))
        self.replay_action.triggered.connect(
            lambda: self.spawn(self.replay(self.sidebar.selected() or self.sidebar.channels()))
        )
        self.pause_action.toggled.connect(self._pause_toggled)
        self.export_action.triggered.connect(lambda: self.spawn(self.export()))
        self.import_action.triggered.connect(lambda: self.spawn(self.import_capture()))
        self.find_action.triggered.connect(self.filter_bar.text.setFocus)
        self.demo_action.triggered.connect(lambda: self.spawn(self.start_demo()))
        self.auto_connect_action.toggled.connect(
            lambda on: self.settings.setValue("auto_connect", on)
        )
        self.welcome.connect_button.clicked.connect(lambda: self.spawn(self.new_profile()))
        self.welcome.demo_button.clicked.connect(lambda: self.spawn(self.start_demo()))
        self.badge.clicked.connect(lambda: self.pause_action.setChecked(False))
        self.sidebar.selection_changed.connect(lambda _c: self.apply_filter())
        self.sidebar.remove_requested.connect(lambda ch: self.spawn(self.remove_channel(ch)))
        self.sidebar.replay_requested.connect(lambda chs: self.spawn(self.replay(chs)))
        self.filter_bar.changed.connect(self.apply_filter)
        self.model.filter_error.connect(self.filter_bar.show_error)
        self.model.count_changed.connect(lambda n: self.total_label.setText(f"{n:,} shown"))
        self.model.rows_appended.connect(self._rows_appended)
        self.model.modelReset.connect(self._follow_newest)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        c.connection_changed.connect(self._connection_changed)
        c.channel_changed.connect(self.sidebar.set_status)
        c.events_stored.connect(lambda _n: self.model.new_rows_stored())
        c.server_error.connect(self._server_error)
        c.gap_recorded.connect(
            lambda ch, text: self.statusBar().showMessage(f"Gap on {ch}: {text}", 15000)
        )
        c.replay_progress.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    # --- tasks ---------------------------------------------------------------------------

    def spawn(self, coro: Any) -> asyncio.Future[Any] | None:
        try:
            task: asyncio.Future[Any] = asyncio.ensure_future(coro)
        except RuntimeError:  # no running loop: the app is shutting down
            coro.close()
            return None
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("action failed: %s", exc, exc_info=exc)
            self._server_error(f"{type(exc).__name__}: {exc}")

    # --- profiles and connection ----------------------------------------------------------

    async def refresh_profiles_menu(self) -> None:
        profiles = await self.worker.run(self.store.profiles)
        menu = self.profiles_menu
        menu.clear()
        menu.addAction(self.connect_action)
        menu.addAction(self.demo_action)
        menu.addAction(self.import_action)
        menu.addAction(self.auto_connect_action)
        menu.addSeparator()
        for profile in profiles:
            label = profile.name
            if profile.is_production:
                label += "  [PRODUCTION]"
            elif profile.read_only:
                label += "  [read-only]"
            menu.addAction(label, functools.partial(self._open_saved_later, profile))
        if not profiles and self.profile is None:
            self.stack.setCurrentWidget(self.welcome)

    def _open_saved_later(self, profile: Profile) -> None:
        self.spawn(self.open_saved(profile))

    async def new_profile(self, keyring_problem: str = "") -> None:
        dialog = ProfileDialog(self, keyring_problem=keyring_problem)
        if not await self._exec(dialog):
            return
        profile, secrets = dialog.result_profile()
        existing = await self.worker.run(self.store.profile, profile.name)
        if existing is not None:
            profile = replace(profile, id=existing.id)
        if dialog.session_only.isChecked():
            self.vault.remember(profile.name, secrets)
        else:
            try:
                await self.worker.run(self.vault.save, profile.name, secrets)
            except KeyringUnavailableError as exc:
                QMessageBox.warning(self, "No keyring", str(exc))
                await self.new_profile(keyring_problem=str(exc))
                return
        profile = await self.worker.run(self.store.save_profile, profile)
        await self.open_profile(profile, secrets)

    async def open_saved(self, profile: Profile) -> None:
        if profile.read_only:
            await self.open_profile(profile, None)
            return
        try:
            secrets = await self.worker.run(self.vault.load, profile.name)
        except KeyringUnavailableError as exc:
            QMessageBox.warning(self, "No keyring", str(exc))
            secrets = None
        if secrets is None:
            dialog = ProfileDialog(self, profile)
            if not await self._exec(dialog):
                return
            profile, secrets = dialog.result_profile(profile.id)
            with contextlib.suppress(KeyringUnavailableError):
                await self.worker.run(self.vault.save, profile.name, secrets)
        await self.open_profile(profile, secrets)

    async def open_profile(self, profile: Profile, secrets: Secrets | None) -> None:
        """Show a profile's capture; connect when secrets are given."""
        await self.controller.disconnect_profile()
        self.profile = profile
        assert profile.id is not None
        subs = await self.worker.run(self.store.subscriptions, profile.id)
        self.sidebar.set_channels([s.channel for s in subs])
        prod = "  PRODUCTION" if profile.is_production else ""
        kind = "read-only capture" if profile.read_only else profile.login_url
        self.profile_label.setText(f"{profile.name} ({kind}){prod}")
        self.profile_label.setStyleSheet(
            "color: #9a6700; font-weight: bold" if profile.is_production else ""
        )
        self.setWindowTitle(f"sfmonitor — {profile.name}{prod}")
        self.stack.setCurrentIndex(1)
        self.apply_filter()
        self.settings.setValue("last_profile", profile.name)
        if secrets is not None and not profile.read_only:
            await self.controller.connect_profile(profile, secrets)
        await self.refresh_profiles_menu()
        self._update_actions()

    async def disconnect_profile(self) -> None:
        await self.controller.disconnect_profile()
        self.sidebar.set_all_status("offline")
        self._update_actions()

    async def start_demo(self) -> None:
        """The built-in emulator with demo traffic, and the Demo profile connected to it."""
        from sfmonitor.demo import start_demo

        if self.demo is None:
            self.demo = await start_demo(self.store)
        demo = self.demo
        await self.open_profile(demo.profile, demo.secrets)

    # --- channels ------------------------------------------------------------------------

    async def add_channel(self) -> None:
        if self.profile is None or self.profile.read_only:
            QMessageBox.information(self, "Add a channel", "Open or create a profile first.")
            return
        dialog = ChannelDialog(self)
        if not await self._exec(dialog):
            return
        channel, policy = dialog.value()
        self.sidebar.add_channel(channel)
        await self.controller.add_channel(channel, policy)

    async def remove_channel(self, channel: str) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Remove channel")
        box.setText(f"Stop capturing {channel}?")
        box.setInformativeText("Its captured events are kept unless you delete them too.")
        keep = box.addButton("Remove, keep events", QMessageBox.ButtonRole.AcceptRole)
        drop = box.addButton("Remove and delete events", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        await self._exec(box)
        if box.clickedButton() not in (keep, drop):
            return
        await self.controller.remove_channel(channel, delete_events=box.clickedButton() is drop)
        self.sidebar.set_channels([c for c in self.sidebar.channels() if c != channel])
        self.model.refresh()

    async def replay(self, channels: list[str]) -> None:
        if not channels or self.profile is None:
            return
        if not self.controller.connected:
            QMessageBox.information(self, "Replay", "Connect first.")
            return
        if self.profile.is_production:
            answer = QMessageBox.question(
                self,
                "Replay in a production org?",
                f"Replaying {len(channels)} channel(s) re-delivers every retained event; "
                "they count against the org's daily event delivery allocation. Replay?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            await self.controller.replay_last_24h(channels)
        except StreamingError as exc:
            self._server_error(str(exc))

    # --- table, filter, detail -----------------------------------------------------------

    def current_query(self) -> EventQuery:
        pid = self.profile.id if self.profile and self.profile.id is not None else -1
        return EventQuery(
            pid,
            text=self.filter_bar.filter_text(),
            channels=frozenset(self.sidebar.selected()),
            kinds=self.filter_bar.kinds(),
            since_ms=self.filter_bar.since_ms(),
        )

    def apply_filter(self) -> None:
        self.detail.show_event("Select an event to see it whole", None)
        self.model.set_query(self.current_query())

    def _selection_changed(self, selected: QItemSelection, _old: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        row = self.model.row_at(rows[-1].row())
        if row is not None:
            self.spawn(self._show_detail(row.id))

    async def _show_detail(self, event_id: int) -> None:
        row = await self.worker.run(self.store.event, event_id)
        if row is not None:
            title = f"{row.channel} · replay id {row.replay_id} · {row.change}"
            self.detail.show_event(title, row.raw)

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_action.setText("Resume view" if paused else "Pause view")
        self.pause_action.setIcon(icon("resume" if paused else "pause"))
        if not paused:
            self.follow = True
            self._follow_newest()

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if not self.pause_action.isChecked():
            self.follow = value >= bar.maximum() - 2
        if self.follow and not self.pause_action.isChecked():
            self._clear_badge()

    def _rows_appended(self, added: int) -> None:
        if self.follow and not self.pause_action.isChecked():
            self.table.scrollToBottom()
        else:
            self.unseen += added
            self.badge.setText(f"{self.unseen:,} new — show")
            self.badge.show()

    def _follow_newest(self) -> None:
        if self.follow and not self.pause_action.isChecked():
            self.table.scrollToBottom()
            self._clear_badge()

    def _clear_badge(self) -> None:
        self.unseen = 0
        self.badge.hide()

    # --- export / import -----------------------------------------------------------------

    async def export(self, scope: str | None = None, target: Path | None = None) -> int | None:
        if self.profile is None:
            return None
        selected = [self.model.row_at(i.row()) for i in self.table.selectionModel().selectedRows()]
        ids = tuple(r.id for r in selected if r is not None)
        scope = scope or choose_scope(self, bool(ids))
        if scope is None:
            return None
        query = self.current_query()
        if scope == SCOPES[1]:
            query = EventQuery(query.profile_id)
        elif scope == SCOPES[2]:
            query = EventQuery(query.profile_id, ids=ids)
        count = await run_export(self, self.store, self.worker, query, target)
        if count is not None:
            self.statusBar().showMessage(f"Exported {count:,} events", 10000)
        return count

    async def import_capture(self, source: Path | None = None) -> Profile | None:
        profile = await run_import(self, self.store, self.worker, source)
        if profile is not None:
            await self.open_profile(profile, None)
        return profile

    # --- status --------------------------------------------------------------------------

    def _connection_changed(self, state: str, text: str) -> None:
        self.state_label.setText(text)
        if state == "live":
            self.error_label.setText("")
        if state in ("stopped", "failed"):
            self.sidebar.set_all_status("offline")
        self._update_actions()

    def _server_error(self, text: str) -> None:
        shown = text if len(text) <= 160 else text[:159] + "…"
        self.error_label.setText(shown)
        self.error_label.setToolTip(text)

    def _tick(self) -> None:
        self.rate_label.setText(f"{self.controller.rate:,.1f} events/s")
        self._ticks += 1
        if (
            self.profile is not None
            and self.profile.id is not None
            and not self._counting
            and self._ticks % 2 == 0
        ):
            self._counting = True
            self.spawn(self._refresh_counts(self.profile.id))

    async def _refresh_counts(self, profile_id: int) -> None:
        """Per-channel counts (a scan of an index: every 2 s, never two at once)."""
        try:
            counts = await self.worker.run(self.store.channel_counts, profile_id)
        finally:
            self._counting = False
        self.sidebar.set_counts(counts)
        total = sum(v for k, v in counts.items())
        self.total_label.setText(f"{self.model.rowCount():,} shown · {total:,} captured")

    def _update_actions(self) -> None:
        connected = self.controller.connected
        writable = self.profile is not None and not self.profile.read_only
        self.disconnect_action.setEnabled(connected)
        self.add_channel_action.setEnabled(writable)
        self.replay_action.setEnabled(connected)
        self.export_action.setEnabled(self.profile is not None)

    # --- modal dialogs without blocking the loop -----------------------------------------

    async def _exec(self, dialog: Any) -> bool:
        """Show a dialog modally and await its answer (the event loop keeps running)."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def finished(code: int) -> None:
            if not done.done():
                done.set_result(code)

        dialog.finished.connect(finished)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.open_dialog = dialog
        try:
            return bool(await done)
        finally:
            self.open_dialog = None

    # --- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self.spawn(self.shutdown())

    def _restore_layout(self) -> None:
        s = self.settings
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/main_splitter", self.main_splitter.restoreState),
            ("window/right_splitter", self.right_splitter.restoreState),
            ("window/columns", self.table.horizontalHeader().restoreState),
        ):
            value = s.value(key)
            if value is not None:
                restore(value)

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/main_splitter", self.main_splitter.saveState())
        s.setValue("window/right_splitter", self.right_splitter.saveState())
        s.setValue("window/columns", self.table.horizontalHeader().saveState())
        s.sync()

    async def shutdown(self) -> None:
        """Disconnect (writing everything received), stop the demo, then close."""
        self.timer.stop()
        self.save_layout()
        await self.controller.disconnect_profile()
        if self.demo is not None:
            await self.demo.emulator.stop()
            self.demo = None
        await self.model.settle()
        self._closed = True
        self.close()
