"""The tree of "Add channels…": every discovered channel under its kind, with a checkbox.

Built once per discovery (600+ channels in a large org); a search hides rows rather than
rebuilding them. A kind row's checkbox is "select all of this kind": it acts on the rows a
person can see and choose (not the hidden ones, not those already in the profile) and shows
their state (checked, partly, not). Channels already in the profile are checked and
disabled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from sfmonitor.discovery import Channel, Discovery, Kind

from . import theme

CHANNEL_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
ALREADY_ADDED = "already added"
EXPANDED_UP_TO = 25  # kinds with more channels start collapsed
# Discovery's badge words, said so that "selected" is not taken for the checkbox
BADGE_WORDS = {"selected": "selected for CDC", "not selected": "not selected for CDC"}
Checked, Unchecked, Partly = (
    Qt.CheckState.Checked,
    Qt.CheckState.Unchecked,
    Qt.CheckState.PartiallyChecked,
)


def badge_text(channel: Channel, added: bool) -> str:
    words = [BADGE_WORDS.get(b, b) for b in channel.badges]
    if channel.members:  # a custom channel: which events, in the tooltip
        n = len(channel.members)
        words.append(f"{n} member{'s' if n != 1 else ''}")
    return " · ".join([ALREADY_ADDED, *words] if added else words)


def tooltip_of(channel: Channel) -> str:
    lines = [channel.channel, channel.label]
    lines += [t for t in (channel.description, channel.detail) if t]
    if channel.members:
        lines.append("Members: " + ", ".join(channel.members))
    return "\n".join(dict.fromkeys(lines))  # no line twice (a label may be the name)


@dataclass
class Row:
    channel: Channel
    item: QTreeWidgetItem
    haystack: str  # channel and label, lower case: what the search looks in
    added: bool


@dataclass
class Group:
    kind: Kind
    item: QTreeWidgetItem
    rows: list[Row] = field(default_factory=list)
    shown: int = 0


class ChannelTree(QTreeWidget):
    """``chosen_changed`` (the number chosen) whenever a checkbox changes."""

    chosen_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Channel", "Label", "Notes"])
        self.setUniformRowHeights(True)  # fast layout of hundreds of rows
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QTreeWidget.SelectionMode.SingleSelection)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.groups: dict[Kind, Group] = {}
        self.rows: dict[str, Row] = {}
        self._syncing = False
        self._needle: tuple[str, ...] = ()
        self.itemChanged.connect(self._changed)

    # --- building ---------------------------------------------------------------------------

    def set_discovery(self, discovery: Discovery, existing: Iterable[str], keep: set[str]) -> None:
        """Show ``discovery``; ``existing`` channels are already in the profile, ``keep``
        are checked (what a person had chosen before a refresh)."""
        added = set(existing)
        self._syncing = True
        self.setUpdatesEnabled(False)
        try:
            self.clear()
            self.groups, self.rows = {}, {}
            for kind, channels in discovery.by_kind().items():
                if channels:
                    self._add_group(kind, channels, added, keep)
            self.resizeColumnToContents(0)
            self.setColumnWidth(0, min(self.columnWidth(0) + 24, 420))
            self.resizeColumnToContents(1)
            self.setColumnWidth(1, min(self.columnWidth(1) + 12, 260))
        finally:
            self.setUpdatesEnabled(True)
            self._syncing = False
        self.filter(" ".join(self._needle))
        self.chosen_changed.emit(len(self.chosen()))

    def _add_group(
        self, kind: Kind, channels: list[Channel], added: set[str], keep: set[str]
    ) -> None:
        top = QTreeWidgetItem()
        top.setData(0, KIND_ROLE, kind.value)
        top.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        top.setCheckState(0, Unchecked)
        top.setToolTip(0, f"Select all {kind.label} shown")
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        group = Group(kind, top)
        muted = QBrush(QColor(theme.MUTED))
        children = []
        for channel in channels:
            item = QTreeWidgetItem([channel.channel, channel.label])
            done = channel.channel in added
            item.setData(0, CHANNEL_ROLE, channel.channel)
            flags = Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
            item.setFlags(flags if done else flags | Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(0, Checked if done or channel.channel in keep else Unchecked)
            item.setText(2, badge_text(channel, done))
            item.setForeground(2, muted)
            tip = tooltip_of(channel)
            for column in range(3):
                item.setToolTip(column, tip)
            children.append(item)
            haystack = f"{channel.channel}\n{channel.label}".lower()
            row = Row(channel, item, haystack, done)
            group.rows.append(row)
            self.rows[channel.channel] = row
        top.addChildren(children)
        self.addTopLevelItem(top)
        top.setFirstColumnSpanned(True)
        top.setExpanded(len(channels) <= EXPANDED_UP_TO)
        self.groups[kind] = group

    # --- search -----------------------------------------------------------------------------

    def filter(self, text: str) -> None:
        """Show the channels whose name or label holds every word of ``text`` (any case);
        kinds without one are hidden, kinds with one are opened."""
        needle = tuple(text.lower().split())
        self._needle = needle
        self._syncing = True
        self.setUpdatesEnabled(False)
        try:
            for group in self.groups.values():
                shown = 0
                for row in group.rows:
                    hit = all(word in row.haystack for word in needle)
                    if row.item.isHidden() == hit:
                        row.item.setHidden(not hit)
                    shown += hit
                group.shown = shown
                group.item.setHidden(bool(needle) and shown == 0)
                if needle and shown:
                    group.item.setExpanded(True)
                self._sync_group(group)
        finally:
            self.setUpdatesEnabled(True)
            self._syncing = False

    def count_text(self, kind: Kind) -> str:
        group = self.groups[kind]
        total = len(group.rows)
        return f"{group.shown:,} of {total:,}" if self._needle else f"{total:,}"

    # --- checking ---------------------------------------------------------------------------

    def chosen(self) -> list[Channel]:
        """The channels checked by the person (hidden ones too; never those already added)."""
        return [
            row.channel
            for group in self.groups.values()
            for row in group.rows
            if not row.added and row.item.checkState(0) == Checked
        ]

    def set_kind_checked(self, kind: Kind, checked: bool) -> None:
        """What clicking the kind's checkbox does."""
        self.groups[kind].item.setCheckState(0, Checked if checked else Unchecked)

    def _changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._syncing or column != 0:
            return
        kind = item.data(0, KIND_ROLE)
        self._syncing = True
        try:
            if kind is not None:
                group = self.groups[Kind(kind)]
                state = item.checkState(0)
                if state != Partly:
                    for row in self._choosable(group):
                        row.item.setCheckState(0, state)
            else:
                row = self.rows[item.data(0, CHANNEL_ROLE)]
                group = self.groups[row.channel.kind]
            self._sync_group(group)
        finally:
            self._syncing = False
        self.chosen_changed.emit(len(self.chosen()))

    @staticmethod
    def _choosable(group: Group) -> list[Row]:
        return [r for r in group.rows if not r.added and not r.item.isHidden()]

    def _sync_group(self, group: Group) -> None:
        """The kind's checkbox and title say what is chosen among the rows shown."""
        rows = self._choosable(group)
        checked = sum(1 for r in rows if r.item.checkState(0) == Checked)
        state = Unchecked if not checked else Checked if checked == len(rows) else Partly
        flags = Qt.ItemFlag.ItemIsEnabled
        if rows:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        elif any(r.added for r in group.rows if not r.item.isHidden()):
            state = Checked  # every one shown is already in the profile
        was, self._syncing = self._syncing, True
        try:
            group.item.setFlags(flags)
            group.item.setCheckState(0, state)
            group.item.setText(0, f"{group.kind.label}  ({self.count_text(group.kind)})")
        finally:
            self._syncing = was

    # --- keys -------------------------------------------------------------------------------

    def first_visible_channel(self) -> QTreeWidgetItem | None:
        for group in self.groups.values():
            if group.item.isHidden():
                continue
            for row in group.rows:
                if not row.item.isHidden() and not row.added:
                    return row.item
        return None
