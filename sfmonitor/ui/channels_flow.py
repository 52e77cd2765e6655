"""Channels from the window: add (a channel already there is said so in the dialog; the
API that carries it, CometD or Pub/Sub, can be chosen), remove (keeping or deleting its
events), and replay the last 24 hours with progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfmonitor.store import Profile, Subscription
from sfmonitor.store.transports import effective_transport
from sfmonitor.streaming import StreamingError

from .dialogs import ChannelDialog, remove_channel_box
from .replay_progress import channel_list

if TYPE_CHECKING:
    from .main_window import MainWindow


def channel_transports(profile: Profile, subs: list[Subscription]) -> dict[str, str]:
    """Each channel's transport, as a capture of ``profile`` will use it."""
    return {s.channel: effective_transport(s.channel, s.transport, profile.transport) for s in subs}


class ChannelsFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window

    async def add(self) -> None:
        w = self.w
        if w.profile is None or w.profile.read_only:
            await w.dialogs.inform("Add a channel", "Open or create a profile first.")
            return
        profile = w.profile
        dialog = ChannelDialog(
            w, frozenset(w.sidebar.channels()), True, default_transport=profile.transport
        )
        try:
            if not await w.dialogs.run(dialog):
                return
            channel, policy = dialog.value()
            chosen = dialog.chosen_transport()
        finally:
            dialog.deleteLater()
        w.sidebar.add_channel(channel, effective_transport(channel, chosen, profile.transport))
        await w.controller.add_channel(profile, channel, policy, chosen)

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
