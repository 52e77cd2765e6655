"""The status bar: which profile, what the connection is doing, the last problem, the rate
and the totals. It tells the truth and says each thing once:

- the state says what sfmonitor does ("Live", "Reconnecting in 12 s", "Login failed");
- the problem line says why, in the server's words, and belongs to its source (the
  connection or a channel): it goes away when that source recovers or is removed;
- a countdown counts down, and "Reconnect now" skips it.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar, QWidget

from sfmonitor.streaming import ConnectionState

from .controller import CONNECTION
from .palette import ERROR, WARNING

ACTIVITY_SHOWN_MS = 30_000


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" to fit; the tooltip has it whole."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(40)
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = " ".join(text.split())  # one line: server text may hold newlines
        self.setToolTip(text if self._full else "")
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))


class StatusBar(QStatusBar):
    """``reconnect_requested`` when the user asks to try again at once."""

    reconnect_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile_label = QLabel("No profile")
        self.profile_label.setTextFormat(Qt.TextFormat.PlainText)
        self.production_label = QLabel("PRODUCTION")
        self.production_label.setStyleSheet(f"color: {WARNING}; font-weight: bold")
        self.production_label.hide()
        self.state_label = QLabel("Disconnected")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reconnect_button = QPushButton("Reconnect now")
        self.reconnect_button.setFlat(True)
        self.reconnect_button.hide()
        self.reconnect_button.clicked.connect(self.reconnect_requested)
        self.activity_label = ElidedLabel()
        self.activity_label.setContentsMargins(12, 0, 0, 0)
        self.activity_label.hide()
        self.error_label = ElidedLabel()
        self.error_label.setStyleSheet(f"color: {ERROR}")
        self.error_label.hide()
        self.rate_label = QLabel("0.0 events/s")
        self.total_label = QLabel("0 shown")
        self.sinks_label = QLabel()  # only while the capture on screen has sinks
        self.sinks_label.setTextFormat(Qt.TextFormat.PlainText)
        self.sinks_label.hide()
        self.addWidget(self.profile_label)
        self.addWidget(self.production_label)
        self.addWidget(self.state_label)
        self.addWidget(self.reconnect_button)
        self.addWidget(self.activity_label, 1)
        self.addWidget(self.error_label, 1)
        self.addPermanentWidget(self.sinks_label)
        self.addPermanentWidget(self.rate_label)
        self.addPermanentWidget(self.total_label)
        self._state = ConnectionState.STOPPED
        self._state_text = "Disconnected"
        self._retry_at: float | None = None
        self._problems: dict[str, str] = {}  # source -> text, newest last
        self._shown = 0
        self._captured: int | None = None
        self._activity_timer = QTimer(self)
        self._activity_timer.setSingleShot(True)
        self._activity_timer.setInterval(ACTIVITY_SHOWN_MS)
        self._activity_timer.timeout.connect(lambda: self.show_activity(""))
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._render_state)

    # --- profile -----------------------------------------------------------------------

    def show_profile(self, name: str, where: str, production: bool) -> None:
        self.profile_label.setText(f"{name} · {where}" if where else name)
        self.profile_label.setToolTip(f"{name}\n{where}" if where else name)
        self.production_label.setVisible(production)

    # --- connection state ----------------------------------------------------------------

    def show_state(self, state: ConnectionState, text: str, retry_in: float | None = None) -> None:
        """``text`` is short ("Live", "Reconnecting"): the reason belongs in
        ``show_problem``."""
        self._state, self._state_text = state, text
        self._retry_at = time.monotonic() + retry_in if retry_in else None
        if self._retry_at is not None:
            self._countdown.start()
        else:
            self._countdown.stop()
        self.reconnect_button.setVisible(
            state in (ConnectionState.RECONNECTING, ConnectionState.FAILED)
        )
        if state is ConnectionState.CONNECTED:
            self.clear_problem(CONNECTION)
        self._render_state()

    def state(self) -> ConnectionState:
        return self._state

    def _render_state(self) -> None:
        text = self._state_text
        if self._retry_at is not None:
            left = math.ceil(self._retry_at - time.monotonic())
            if left > 0:
                text = f"{text} in {left} s"
            else:
                self._countdown.stop()
                self._retry_at = None
        self.state_label.setText(text)

    # --- problems ------------------------------------------------------------------------

    def show_problem(self, source: str, text: str) -> None:
        """The last problem of ``source`` (CONNECTION or a channel), in the server's words."""
        self._problems.pop(source, None)
        if text:
            self._problems[source] = text
        self._render_problem()

    def clear_problem(self, source: str) -> None:
        if self._problems.pop(source, None) is not None:
            self._render_problem()

    def clear_channel_problems(self, keep: set[str]) -> None:
        """Forget the problems of channels not in ``keep`` (they were removed)."""
        for source in [s for s in self._problems if s != CONNECTION and s not in keep]:
            del self._problems[source]
        self._render_problem()

    def problem(self) -> str:
        return self.error_label.full_text()

    def _render_problem(self) -> None:
        self.error_label.setVisible(bool(self._problems))  # else the activity has the room
        if not self._problems:
            self.error_label.set_full_text("")
            return
        source, text = next(reversed(self._problems.items()))
        shown = f"{source}: {text}" if source else text
        others = len(self._problems) - 1
        if others:
            shown += f"  (+{others} more)"
        self.error_label.set_full_text(shown)
        self.error_label.setToolTip(
            "\n".join(f"{s}: {t}" if s else t for s, t in self._problems.items())
        )

    # --- activity ------------------------------------------------------------------------

    def show_activity(self, text: str) -> None:
        """What a long action does or did ("Replaying…", "Exported … to …"); it stays
        ACTIVITY_SHOWN_MS after its last update (unlike showMessage, it hides nothing)."""
        self.activity_label.set_full_text(text)
        self.activity_label.setVisible(bool(text))
        if text:
            self._activity_timer.start()

    def activity(self) -> str:
        return self.activity_label.full_text()

    # --- figures -------------------------------------------------------------------------

    def show_rate(self, per_second: float) -> None:
        self.rate_label.setText(f"{per_second:,.1f} events/s")

    def show_totals(self, shown: int | None = None, captured: int | None = None) -> None:
        if shown is not None:
            self._shown = shown
        if captured is not None:
            self._captured = captured
        text = f"{self._shown:,} shown"
        if self._captured is not None:
            text += f" · {self._captured:,} captured"
        self.total_label.setText(text)

    def add_captured(self, stored: int) -> None:
        """Events just stored: the total moves with the table, between two recounts."""
        if self._captured is not None:
            self.show_totals(captured=self._captured + stored)

    def show_sinks(self, text: str, details: str = "", color: str = "") -> None:
        """The sinks of the capture on screen ("sinks: 2 ok / lag 1,204"), each in the
        tooltip; "" hides the label."""
        self.sinks_label.setVisible(bool(text))
        self.sinks_label.setText(text)
        self.sinks_label.setToolTip(details)
        self.sinks_label.setStyleSheet(f"color: {color}" if color else "")

    def forget_totals(self) -> None:
        """Another profile: its totals are not known yet."""
        self._shown, self._captured = 0, None
        self.show_totals()
