"""What the window shows of each channel beyond its status: its colour, its live rate,
whether it is hidden from view, and how many events it got since it was last looked at.

- Colours (``ChannelColors``) are stable (from the name) and editable; a person's choices
  are kept per profile.
- Rates come from the per-channel totals the window reads once a second (no query of
  their own).
- A hidden channel is still captured; the table (``exclude_channels``) and the timeline
  leave it out, and the sidebar shows it dimmed. Selecting it in the sidebar shows it.
- A channel is looked at while the table shows it (selected, or all shown and it is not
  hidden) and follows the newest rows in a window that is not minimized; its unread count
  is what it received since. Kept per profile, so events captured while the window was
  closed count as unread at the next start.

Settings per profile live under ``profiles/<capture file id>-<profile id>/`` (unique per
data folder, unchanged by a rename).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from sfmonitor.store import Profile

from .channel_colors import ChannelColors, choose_color, overrides_from_text, overrides_to_text
from .rates import RateMeter

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)


def profile_key(window: MainWindow, profile: Profile | None) -> str | None:
    """The settings prefix of a profile (None: no saved profile)."""
    if profile is None or profile.id is None:
        return None
    return f"profiles/{window.store.vault_scope}-{profile.id}"


def _json(text: object, kind: type, what: str) -> object:
    """A JSON value of ``kind`` read back from settings; damage gives an empty one (and a
    log line), never an error at start-up."""
    try:
        value = json.loads(text) if isinstance(text, str) and text else kind()
    except ValueError:
        value = None
    if not isinstance(value, kind):
        log.warning("%s in the settings are damaged; starting again", what)
        return kind()
    return value


def seen_from_text(text: object) -> dict[str, int]:
    value = _json(text, dict, "unread marks")
    assert isinstance(value, dict)
    return {str(k): v for k, v in value.items() if isinstance(v, int) and v >= 0}


def hidden_from_text(text: object) -> frozenset[str]:
    value = _json(text, list, "hidden channels")
    assert isinstance(value, list)
    return frozenset(v for v in value if isinstance(v, str))


class ChannelView:
    def __init__(self, window: MainWindow, palette: ChannelColors) -> None:
        self.w = window
        self.colors = palette
        self.rates = RateMeter()
        self.hidden: frozenset[str] = frozenset()
        self.key: str | None = None
        self._seen: dict[str, int] = {}  # channel -> its total when last looked at
        self._totals: dict[str, int] = {}
        self.colors.changed.connect(self._colors_changed)

    # --- profiles --------------------------------------------------------------------------

    def show_profile(self, profile: Profile | None, channels: list[str]) -> None:
        """Another profile on screen: its colours, hidden channels and unread marks."""
        self.save()
        self.key = profile_key(self.w, profile)
        settings = self.w.settings
        overrides = settings.value(f"{self.key}/channel_colors") if self.key else None
        hidden = settings.value(f"{self.key}/hidden") if self.key else None
        self.hidden = hidden_from_text(hidden)
        self._seen = seen_from_text(settings.value(f"{self.key}/seen") if self.key else None)
        self._totals = {}
        self.rates.clear()
        self.w.sidebar.set_hidden(self.hidden)
        self.w.timeline.set_hidden(self.hidden)
        self.colors.blockSignals(True)  # one repaint below, not two
        self.colors.set_overrides(overrides_from_text(overrides))
        self.colors.set_channels(channels)
        self.colors.blockSignals(False)
        self.colors.changed.emit()  # chips, bars and sparklines in this profile's colours

    def channels_changed(self, channels: list[str]) -> None:
        """A channel was added or removed: colliding colours spread again."""
        self.colors.set_channels(channels)

    def save(self) -> None:
        """Keep the unread marks (the colours and hidden set are kept as they change)."""
        if self.key is not None:
            self.w.settings.setValue(f"{self.key}/seen", json.dumps(self._seen, sort_keys=True))

    # --- once a second ---------------------------------------------------------------------

    def tick(self, totals: dict[str, int]) -> None:
        """The channels' totals as read now: rates, looked-at marks, unread counts."""
        channels = self.w.sidebar.channels()
        totals = {**dict.fromkeys(channels, 0), **totals}  # a channel with no events yet: 0
        self._totals = totals
        self.rates.feed_totals(totals)
        for channel in self.in_view():
            self._seen[channel] = totals.get(channel, 0)
        unread = {}
        for channel, total in totals.items():
            seen = self._seen.setdefault(channel, total)  # first sight: nothing unread yet
            if total < seen:  # events deleted (retention): count from here
                self._seen[channel] = seen = total
            unread[channel] = total - seen
        self.w.sidebar.set_activity(
            {ch: self.rates.rate(ch) for ch in channels},
            {ch: self.rates.series(ch) for ch in channels},
            unread,
        )

    def in_view(self) -> list[str]:
        """The channels a person sees arrive now (see the module's docstring)."""
        w = self.w
        if not w.isVisible() or w.windowState() & Qt.WindowState.WindowMinimized:
            return []
        if not w.follow.following or w.follow.paused:
            return []
        selected = w.sidebar.selected()
        if selected:
            return selected
        return [ch for ch in w.sidebar.channels() if ch not in self.hidden]

    @property
    def counted(self) -> bool:
        """The channels' totals were read at least once for the profile on screen."""
        return bool(self._totals)

    def unread(self, channel: str) -> int:
        total = self._totals.get(channel, 0)
        return max(total - self._seen.get(channel, total), 0)

    # --- hide, colours ---------------------------------------------------------------------

    def set_hidden(self, channels: list[str], hide: bool) -> None:
        """Hide channels from view (capture goes on) or show them again."""
        hidden = self.hidden | set(channels) if hide else self.hidden - set(channels)
        if hidden == self.hidden:
            return
        self.hidden = frozenset(hidden)
        if self.key is not None:
            text = json.dumps(sorted(self.hidden))
            self.w.settings.setValue(f"{self.key}/hidden", text)
        self.w.sidebar.set_hidden(self.hidden)
        self.w.timeline.set_hidden(self.hidden)
        self.w.apply_filter()

    def excluded(self) -> frozenset[str]:
        """The channels the table leaves out: hidden ones not selected explicitly."""
        return self.hidden - set(self.w.sidebar.selected())

    def choose_color(self, channel: str) -> None:
        self.w.tasks.spawn(choose_color(self.w.dialogs, self.colors, channel))

    def _colors_changed(self) -> None:
        """Keep the person's colours (the sidebar, table and timeline repaint on their
        own: they listen to the same ``changed``)."""
        if self.key is not None:
            text = overrides_to_text(self.colors.overrides())
            self.w.settings.setValue(f"{self.key}/channel_colors", text)
