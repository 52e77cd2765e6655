"""Channels from the window: add (a channel already there is said so in the dialog),
remove (keeping or deleting its events), and replay the last 24 hours with progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfmonitor.streaming import StreamingError

from .dialogs import ChannelDialog, remove_channel_box
from .replay_progress import channel_list

if TYPE_CHECKING:
    from .main_window import MainWindow


class ChannelsFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window

    async def add(self) -> None:
        w = self.w
        if w.profile is None or w.profile.read_only:
            await w.dialogs.inform("Add a channel", "Open or create a profile first.")
            return
        dialog = ChannelDialog(w, frozenset(w.sidebar.channels()))
        try:
            if not await w.dialogs.run(dialog):
                return
            channel, policy = dialog.value()
        finally:
            dialog.deleteLater()
        w.sidebar.add_channel(channel)
        await w.controller.add_channel(w.profile, channel, policy)

    async def remove(self, channel: str) -> None:
        w = self.w
        if w.profile is None or w.profile.read_only:
            return
        box, keep, drop = remove_channel_box(w, channel)
        try:
            await w.dialogs.run(box)
            choice = box.clickedButton()
        finally:
            box.deleteLater()
        if choice not in (keep, drop):
            return
        await w.controller.remove_channel(w.profile, channel, delete_events=choice is drop)
        remaining = [c for c in w.sidebar.channels() if c != channel]
        w.sidebar.set_channels(remaining)
        w.status.clear_channel_problems(set(remaining))
        w.model.refresh()

    async def replay(self, channels: list[str]) -> None:
        w = self.w
        if not channels or w.profile is None:
            return
        if not (w.controller.live and w.controller.capturing(w.profile)):
            await w.dialogs.inform("Replay", "Connect first: a replay asks the org for events.")
            return
        if w.profile.is_production:
            question = (
                f"Replaying {channel_list(channels)} re-delivers every event the org "
                "retains; they count against its daily event delivery allocation."
            )
            if not await w.dialogs.confirm("Replay in a production org?", question):
                return
        if not await w.limits.replay_allowed(w.profile, channels):  # in every org
            return
        try:
            await w.controller.replay_last_24h(channels)
        except StreamingError as exc:
            w.status.show_problem("", str(exc))
