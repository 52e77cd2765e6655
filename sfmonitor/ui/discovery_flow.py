"""“Add channels…”: the org's channels from discovery, chosen many at once and subscribed at
once with one replay choice.

The last discovery of each profile is kept in the capture file (``store.notes``) and shown
at once; Refresh (or a profile never discovered) runs ``discover()`` off the Qt thread
while the dialog stays open. A profile with no channels yet opens the dialog when its
connection first goes live, and the sidebar offers it while the profile has none.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from sfmonitor.discovery import Discovery, RestError, discover
from sfmonitor.store import Profile, notes
from sfmonitor.store.transports import effective_transport
from sfmonitor.store.validation import channel_name_problem
from sfmonitor.streaming import StreamingError

from .discovery_dialog import ChannelSelection, DiscoveryDialog
from .org_access import NoAccess
from .replay_choice import NEW, TIME

if TYPE_CHECKING:
    from .main_window import MainWindow

TRANSPORT = "cometd"  # what the capture's client subscribes with (issue 17: per channel)
FAILURES = (StreamingError, RestError, NoAccess)  # AuthenticationError, TransportError too


class EmptyChannels(QWidget):
    """The sidebar's empty state: what to do when a profile has no channel yet."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        text = QLabel("No channels yet: choose from those the org has.")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton("Add channels…")
        layout.addWidget(text)
        layout.addWidget(self.button)


class DiscoveryFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._offered: set[int] = set()  # profiles whose empty list opened the dialog
        self.empty = EmptyChannels()
        layout = window.sidebar.layout()
        assert layout is not None
        layout.addWidget(self.empty)
        self.empty.button.clicked.connect(lambda: window.tasks.spawn(self.add_channels()))
        self._listed = model = window.sidebar.list.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(lambda *_: self.show_empty_state())
        window.controller.state_changed.connect(lambda *_: self._maybe_offer())
        self.show_empty_state()

    # --- the sidebar's empty state, and the first connection of an empty profile ----------

    def _writable(self) -> Profile | None:
        profile = self.w.profile
        return profile if profile is not None and not profile.read_only else None

    def show_empty_state(self) -> None:
        # the list's model, not the list: it is asked while the list is being destroyed
        self.empty.setVisible(self._writable() is not None and self._listed.rowCount() == 0)

    def _maybe_offer(self) -> None:
        profile, c = self._writable(), self.w.controller
        if profile is None or profile.id is None or profile.id in self._offered:
            return
        if c.live and c.capturing(profile) and not self.w.sidebar.channels():
            self._offered.add(profile.id)
            if self.w.dialogs.current is None:
                self.w.tasks.spawn(self.add_channels())

    # --- the dialog ------------------------------------------------------------------------

    async def cached(self, profile: Profile) -> Discovery | None:
        """The profile's last discovery (None when never discovered, or unreadable)."""
        assert profile.id is not None
        text = await self.w.worker.run(notes.note, self.w.store, profile.id, notes.DISCOVERY)
        try:
            return Discovery.from_json(text) if text else None
        except ValueError:
            return None  # a damaged note: discovered again

    async def add_channels(self) -> None:
        w = self.w
        profile = self._writable()
        if profile is None:
            await w.dialogs.inform("Add channels", "Open or create a profile first.")
            return
        found = await self.cached(profile)
        shown = found.for_transport(TRANSPORT) if found else None
        dialog = DiscoveryDialog(shown, w.sidebar.channels(), w)
        running: list[asyncio.Task[Any]] = []

        def refresh() -> None:
            task = w.tasks.spawn(self.refresh(profile, dialog))
            if task is not None:
                running.append(task)

        dialog.refresh_requested.connect(refresh)
        if found is None:
            refresh()  # the dialog says "Discovering…"
        try:
            chosen = dialog.value() if await w.dialogs.run(dialog) else None
        finally:
            for task in running:
                task.cancel()
            dialog.deleteLater()
        if chosen is not None and w.profile is not None and w.profile.id == profile.id:
            await self.subscribe(profile, chosen)

    async def refresh(self, profile: Profile, dialog: DiscoveryDialog) -> Discovery | None:
        """Discover again, keep it for the profile, and show it in ``dialog``."""
        assert profile.id is not None
        try:
            found = await self.w.access.call(
                profile,
                lambda a: discover(a.instance_url, a.token, a.api_version, http=a.http),
            )
        except FAILURES as exc:
            dialog.refresh_failed(str(exc))
            return None
        await self.w.worker.run(
            notes.set_note, self.w.store, profile.id, notes.DISCOVERY, found.to_json()
        )
        dialog.set_discovery(found.for_transport(TRANSPORT))
        return found

    async def subscribe(self, profile: Profile, chosen: ChannelSelection) -> None:
        """Add the chosen channels, all starting where the person said. A name the
        client cannot subscribe to is left out and said so; the others are added."""
        w = self.w
        known = set(w.sidebar.channels())
        names = [name for name in chosen.names if name not in known]
        refused = {name: p for name in names if (p := channel_name_problem(name))}
        names = [name for name in names if name not in refused]
        if names and await self._replay_allowed(profile, names, chosen):
            replay = chosen.replay
            since_ms = replay.since_ms if replay.mode == TIME else None
            for name in names:
                w.sidebar.add_channel(name, effective_transport(name, "", profile.transport))
            await w.controller.add_channels(profile, names, replay.policy or "all", since_ms)
            what = f"{len(names)} channel{'s' if len(names) != 1 else ''}"
            more = "…" if len(names) > 3 else ""
            w.status.show_activity(f"Added {what}: {', '.join(names[:3])}{more}")
        if refused:
            await w.dialogs.warn(
                "Add channels",
                f"{len(refused)} channel{'s' if len(refused) != 1 else ''} not added.",
                "\n".join(f"{name}: {problem}" for name, problem in refused.items()),
            )

    async def _replay_allowed(
        self, profile: Profile, names: list[str], chosen: ChannelSelection
    ) -> bool:
        """Starting before now re-delivers retained events: the limits flow asks first
        when that would likely exceed what remains (only when capturing: otherwise the
        replay happens at the next connect)."""
        if chosen.replay.mode == NEW or not self.w.controller.live:
            return True
        if not self.w.controller.capturing(profile):
            return True
        return await self.w.limits.replay_allowed(profile, names)
