"""Where new subscriptions start: new events only, every retained event, after a replay id,
or from a time. One choice for a whole selection of channels ("Add channels…").

A replay id is checked as it is typed (Salesforce's ids are whole numbers from 1 up to
2**63 - 1); a time is given as epoch milliseconds, which the caller maps to a cutoff (events
created before it are skipped). Salesforce keeps events 24 hours (PushTopics, generic) or
72 hours (platform events, change events): an earlier time is allowed and said so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from sfmonitor.store.validation import REPLAY_ID_MAX

from . import theme

NEW, ALL, REPLAY_ID, TIME = "new", "all", "replay_id", "time"
RETENTION_MS = 72 * 3600 * 1000


@dataclass(frozen=True)
class ReplayChoice:
    """``mode`` is new, all, replay_id or time; ``replay_id`` / ``since_ms`` go with it."""

    mode: str = NEW
    replay_id: int | None = None
    since_ms: int | None = None  # epoch milliseconds, UTC

    @property
    def policy(self) -> str | None:
        """The store's replay policy ("new", "all", or the id as text); None for a time
        (no such policy: the caller maps ``since_ms`` to a cutoff)."""
        if self.mode == REPLAY_ID:
            return str(self.replay_id)
        return None if self.mode == TIME else self.mode


def replay_id_problem(text: str) -> str | None:
    """Why ``text`` is not a replay id (None when it is one)."""
    value = text.strip()
    if not value:
        return "Enter the replay id to start after."
    if not value.isdigit() or not 1 <= int(value) <= REPLAY_ID_MAX:
        return f"A replay id is a whole number from 1 to {REPLAY_ID_MAX:,}."
    return None


class ReplayChoiceBox(QGroupBox):
    """``changed`` whenever the choice or its value changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Start with", parent)
        self.new = QRadioButton("&New events only")
        self.all = QRadioButton("&Every retained event (last 24 to 72 hours)")
        self.after_id = QRadioButton("After replay &id")
        self.since = QRadioButton("From a &time")
        self.group = QButtonGroup(self)
        for button in (self.new, self.all, self.after_id, self.since):
            self.group.addButton(button)
        self.new.setChecked(True)
        self.replay_id = QLineEdit()
        self.replay_id.setPlaceholderText("e.g. 11223344")
        self.time = QDateTimeEdit(QDateTime.currentDateTime().addSecs(-3600))
        self.time.setCalendarPopup(True)
        self.time.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.time.setToolTip("Your local time; events created before it are skipped.")
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {theme.ERROR}")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.hide()
        self.note = QLabel()
        self.note.setStyleSheet(f"color: {theme.MUTED}")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.hide()
        grid = QGridLayout(self)
        grid.addWidget(self.new, 0, 0, 1, 2)
        grid.addWidget(self.all, 0, 2, 1, 2)
        grid.addWidget(self.after_id, 1, 0)
        grid.addWidget(self.replay_id, 1, 1)
        grid.addWidget(self.since, 1, 2)
        grid.addWidget(self.time, 1, 3)
        grid.addWidget(self.error, 2, 0, 1, 4)
        grid.addWidget(self.note, 3, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.group.buttonToggled.connect(lambda _b, _on: self._update())
        self.replay_id.textChanged.connect(lambda _t: self._update())
        self.time.dateTimeChanged.connect(lambda _t: self._update())
        self.after_id.toggled.connect(lambda on: self._picked(on, self.replay_id))
        self.since.toggled.connect(lambda on: self._picked(on, self.time))
        self._channels = 0
        self._update()

    def mode(self) -> str:
        if self.after_id.isChecked():
            return REPLAY_ID
        if self.since.isChecked():
            return TIME
        return ALL if self.all.isChecked() else NEW

    def set_channel_count(self, count: int) -> None:
        """A replay id belongs to one channel: say so when several are chosen."""
        self._channels = count
        self._update()

    def problem(self) -> str | None:
        mode = self.mode()
        if mode == REPLAY_ID:
            return replay_id_problem(self.replay_id.text())
        if mode == TIME and self.time.dateTime().toMSecsSinceEpoch() > time.time() * 1000:
            return "The time is in the future: choose New events only to start now."
        return None

    def value(self) -> ReplayChoice:
        """The choice; ValueError when it is not valid (``problem()`` says why)."""
        problem = self.problem()
        if problem:
            raise ValueError(problem)
        mode = self.mode()
        if mode == REPLAY_ID:
            return ReplayChoice(REPLAY_ID, replay_id=int(self.replay_id.text().strip()))
        if mode == TIME:
            return ReplayChoice(TIME, since_ms=self.time.dateTime().toMSecsSinceEpoch())
        return ReplayChoice(mode)

    def _picked(self, on: bool, field: QWidget) -> None:
        if on:  # typing goes to the field of the option just picked
            self._update()
            field.setFocus()

    def check(self) -> bool:
        """Show the problem, if any (even for an id not typed yet); True when valid."""
        self._update(force=True)
        return self.problem() is None

    def _update(self, force: bool = False) -> None:
        mode = self.mode()
        self.replay_id.setEnabled(mode == REPLAY_ID)
        self.time.setEnabled(mode == TIME)
        problem = self.problem()
        typed = mode == TIME or bool(self.replay_id.text())  # no error for an empty field yet
        self.error.setText(problem or "")
        self.error.setVisible(problem is not None and (force or typed))
        self.note.setText(self._note(mode))
        self.note.setVisible(bool(self.note.text()))
        self.changed.emit()

    def _note(self, mode: str) -> str:
        if mode == REPLAY_ID and self._channels > 1:
            return (
                "A replay id belongs to one channel: each of the chosen channels starts "
                "after this id of its own."
            )
        if mode == TIME:
            age = time.time() * 1000 - self.time.dateTime().toMSecsSinceEpoch()
            if age > RETENTION_MS:
                return (
                    "Salesforce keeps events 72 hours at most (24 for PushTopics and "
                    "generic channels): earlier ones are gone."
                )
        if mode in (ALL, TIME):
            return "Replayed events count against the org's daily delivery allocation."
        return ""
