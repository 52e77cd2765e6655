"""“Add channels…”: choose channels from what discovery found, and where they start.

The dialog shows a ``Discovery`` (cached per profile by the caller) and never fails: a
source that Salesforce refused is a status line ("needs the View Setup and Configuration
permission"), and no discovery yet is "Discovering…". Refresh emits ``refresh_requested``;
the caller discovers again and calls ``set_discovery()`` (or ``refresh_failed()``), while
the dialog stays open and keeps what was chosen. Open it with ``Dialogs.run`` and read
``value()`` when it was accepted.

Keys: Ctrl+F goes to the search, Down from the search to the list, Space checks a channel,
Escape clears the search (and closes the dialog when it is empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.discovery import Channel, Discovery

from . import theme
from .discovery_tree import ChannelTree
from .replay_choice import ReplayChoice, ReplayChoiceBox


@dataclass(frozen=True)
class ChannelSelection:
    """What "Add channels…" returns: the channels chosen and where they start."""

    channels: tuple[Channel, ...]
    replay: ReplayChoice

    @property
    def names(self) -> list[str]:
        return [c.channel for c in self.channels]


def age_text(discovered_at: str, now: dt.datetime | None = None) -> str:
    """ "discovered 5 minutes ago" from the discovery's ISO time ("" when unreadable)."""
    try:
        when = dt.datetime.fromisoformat(discovered_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    seconds = ((now or dt.datetime.now(dt.UTC)) - when).total_seconds()
    if seconds < 60:
        return "discovered just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"discovered {n} {unit}{'s' if n > 1 else ''} ago"
    return ""  # pragma: no cover - the loop always returns


def _label(color: str) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # Salesforce's words are never markup
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {color}")
    return label


class DiscoveryDialog(QDialog):
    """``refresh_requested`` when the person asks to discover again."""

    refresh_requested = Signal()

    def __init__(
        self,
        discovery: Discovery | None,
        existing: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add channels")
        self.resize(920, 680)
        self.existing = frozenset(existing)
        self.discovery: Discovery | None = None
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search channels and labels (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.refresh = QPushButton("&Refresh")
        self.refresh.setAutoDefault(False)
        self.refresh.setToolTip("Ask the org again for its channels")
        self.summary = _label(theme.MUTED)
        self.busy = _label(theme.MUTED)
        self.busy.setText("Discovering…")
        self.busy.hide()
        self.sources = _label(theme.WARNING)
        self.sources.hide()
        self.failure = _label(theme.ERROR)
        self.failure.hide()
        self.tree = ChannelTree()
        self.replay = ReplayChoiceBox()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self._layout()
        self.search.textChanged.connect(self.tree.filter)
        self.search.textChanged.connect(lambda _t: self._show_counts())
        self.refresh.clicked.connect(self._refresh)
        self.tree.chosen_changed.connect(self._chosen_changed)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)
        self.search.installEventFilter(self)
        if discovery is None:
            self.set_busy(True)
            self._chosen_changed(0)
        else:
            self.set_discovery(discovery)
        self.search.setFocus()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.busy)
        layout.addWidget(self.failure)
        layout.addWidget(self.sources)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.replay)
        layout.addWidget(self.buttons)

    # --- what the caller does ---------------------------------------------------------------

    def set_discovery(self, discovery: Discovery) -> None:
        """Show (again) what discovery found; checked channels stay checked."""
        keep = {c.channel for c in self.tree.chosen()}
        self.discovery = discovery
        self.tree.set_discovery(discovery, self.existing, keep)
        self.set_busy(False)
        self.failure.hide()
        # the hint on the line (Salesforce's long words about WSDLs in the tooltip)
        failed = [f"{s.label}: {s.hint}" if s.hint else s.text for s in discovery.failed]
        self.sources.setText("\n".join(failed))
        self.sources.setToolTip("\n\n".join(s.text for s in discovery.failed))
        self.sources.setVisible(bool(failed))
        self._show_counts()

    def set_busy(self, busy: bool) -> None:
        """ "Discovering…" while the caller discovers; Refresh waits until it is done."""
        self.busy.setVisible(busy)
        self.refresh.setEnabled(not busy)

    def refresh_failed(self, text: str) -> None:
        """Discovery failed as a whole (the org did not answer): say so, keep the list."""
        self.set_busy(False)
        self.failure.setText(f"Could not discover channels: {text}")
        self.failure.show()

    def value(self) -> ChannelSelection:
        """What was chosen (read it once the dialog was accepted: the replay choice was
        checked then; before, an invalid one raises ValueError)."""
        return ChannelSelection(tuple(self.tree.chosen()), self.replay.value())

    # --- inside -----------------------------------------------------------------------------

    def _refresh(self) -> None:
        self.set_busy(True)
        self.failure.hide()
        self.refresh_requested.emit()

    def _show_counts(self) -> None:
        found = self.discovery
        if found is None:
            self.summary.setText("No channels discovered yet.")
            return
        total = len(found.channels)
        shown = sum(g.shown for g in self.tree.groups.values())
        where = urlsplit(found.instance_url).netloc or found.instance_url
        count = (
            f"{shown:,} of {total:,} channels"
            if self.search.text().strip()
            else (f"{total:,} channels")
        )
        age = age_text(found.discovered_at)
        chosen = len(self.tree.chosen())
        text = f"{count} in {where}" + (f", {age}" if age else "")
        self.summary.setText(text + (f" · {chosen:,} chosen" if chosen else ""))

    def _chosen_changed(self, count: int) -> None:
        self.ok.setText(f"&Add {count} channel{'s' if count != 1 else ''}" if count else "&Add")
        self.ok.setEnabled(count > 0)
        self.replay.set_channel_count(count)
        self._show_counts()

    def _accept(self) -> None:
        if self.tree.chosen() and self.replay.check():
            self.accept()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down from the search goes to the first channel shown."""
        if (
            watched is self.search
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
        ):
            item = self.tree.first_visible_channel()
            if item is not None:
                self.tree.setCurrentItem(item)
                self.tree.setFocus()
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape clears the search first; with nothing to clear it closes the dialog."""
        if event.key() == Qt.Key.Key_Escape and self.search.text():
            self.search.clear()
            self.search.setFocus()
            event.accept()
            return
        super().keyPressEvent(event)
