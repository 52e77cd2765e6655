"""Follow the newest events, as a terminal follows its output.

While the view is at the bottom (and not paused) new rows scroll into view. Scrolled up or
paused, the view stays put and a badge counts what arrived meanwhile; clicking it (or
resuming) jumps back to the newest.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton, QTableView

from .resources import icon


class FollowTail:
    def __init__(self, table: QTableView, pause_action: QAction, badge: QPushButton) -> None:
        self.table = table
        self.pause_action = pause_action
        self.badge = badge
        self.following = True
        self.unseen = 0
        badge.setFlat(True)
        badge.hide()
        badge.clicked.connect(self.resume)
        pause_action.toggled.connect(self._paused)
        table.verticalScrollBar().valueChanged.connect(self._scrolled)

    @property
    def paused(self) -> bool:
        return self.pause_action.isChecked()

    def resume(self) -> None:
        self.pause_action.setChecked(False)
        self.following = True
        self.jump_to_newest()

    def rows_appended(self, added: int) -> None:
        if self.following and not self.paused:
            self.table.scrollToBottom()
        else:
            self.unseen += added
            self.badge.setText(f"{self.unseen:,} new — show")
            self.badge.show()

    def jump_to_newest(self) -> None:
        """After the table was reset: back at the bottom, if following."""
        if self.following and not self.paused:
            self.table.scrollToBottom()
            self._clear_badge()

    def _paused(self, paused: bool) -> None:
        self.pause_action.setText("Resume view" if paused else "Pause view")
        self.pause_action.setIcon(icon("resume" if paused else "pause"))
        if not paused:
            self.following = True
            self.jump_to_newest()

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if not self.paused:
            self.following = value >= bar.maximum() - 2
        if self.following and not self.paused:
            self._clear_badge()

    def _clear_badge(self) -> None:
        self.unseen = 0
        self.badge.hide()
