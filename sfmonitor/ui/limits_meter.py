"""The limits meter of the status bar: what remains of ``DailyDeliveredPlatformEvents`` (the
allocation a replay spends), as a short text over a thin bar; the tooltip lists every
streaming counter the org reports. Refused (no View Setup and Configuration), it says the
limits are unknown rather than failing.

``replay_question()`` is the question to ask before a replay that would likely exceed what
remains: asked in every org, not only production, because the allocation is the whole
org's (every subscriber stops receiving when it runs out).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from sfmonitor.discovery import DELIVERY, Limit, Limits, ReplayCheck, RestError

from . import theme

OK, LOW, EXHAUSTED, UNKNOWN = "ok", "low", "exhausted", "unknown"
LOW_BELOW = 0.10  # under a tenth of the allocation left
COLORS = {OK: "LIVE", LOW: "WARNING", EXHAUSTED: "ERROR", UNKNOWN: "MUTED"}  # theme names
NEEDS_VIEW_SETUP = "limits unknown (needs View Setup)"
REPLAY_TITLE = "Replay past events?"


def compact(n: int) -> str:
    """12,345 -> 12.3k; 50,000 -> 50k; 1,200,000 -> 1.2M (short enough for a status bar)."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(n) >= size:
            text = f"{n / size:.1f}".removesuffix(".0")
            return text + suffix
    return str(n)


def level_of(limit: Limit) -> str:
    if limit.remaining <= 0:
        return EXHAUSTED
    if limit.max > 0 and limit.remaining < limit.max * LOW_BELOW:
        return LOW
    return OK


def _local_time(iso: str) -> str:
    try:
        when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone().strftime("%H:%M")


def limits_tooltip(limits: Limits) -> str:
    lines = [limit.text for limit in limits.streaming()] or ["No streaming limits reported."]
    return "\n".join(
        [
            *lines,
            "",
            f"As of {_local_time(limits.fetched_at)}; Salesforce's figures are accurate "
            "within five minutes.",
        ]
    )


class LimitsMeter(QWidget):
    """``set_limits()`` after each poll, ``set_error()`` when the poll failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("limits …")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(4)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(self.label)
        column.addWidget(self.bar)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.addLayout(column)
        self.level = UNKNOWN
        self.setToolTip("Daily event delivery allocation: not fetched yet.")
        self._paint(UNKNOWN)

    def set_limits(self, limits: Limits) -> None:
        """Show what remains of the delivery allocation; every streaming counter in the
        tooltip."""
        delivery = limits.delivery
        self.setToolTip(limits_tooltip(limits))
        if delivery is None:
            self.label.setText("deliveries unknown")
            self.bar.setValue(0)
            self._paint(UNKNOWN)
            return
        level = level_of(delivery)
        left = "none" if delivery.remaining <= 0 else compact(delivery.remaining)
        self.label.setText(f"{left} of {compact(delivery.max)} deliveries left")
        share = delivery.remaining / delivery.max if delivery.max > 0 else 0.0
        self.bar.setValue(round(max(0.0, min(1.0, share)) * 1000))
        self._paint(level)

    def set_error(self, error: Exception) -> None:
        """The poll failed: a refusal for lack of View Setup says so; anything else says
        the limits are unknown, with the reason in the tooltip."""
        refused = isinstance(error, RestError) and error.permission
        self.label.setText(NEEDS_VIEW_SETUP if refused else "limits unknown")
        reason = (
            f"{DELIVERY} needs the View Setup and Configuration permission."
            if refused
            else "The org's limits could not be read."
        )
        self.setToolTip(f"{reason}\n{error}")
        self.bar.setValue(0)
        self._paint(UNKNOWN)

    def text(self) -> str:
        return self.label.text()

    def _paint(self, level: str) -> None:
        self.level = level
        color = str(getattr(theme, COLORS[level]))  # the scheme on screen
        self.label.setStyleSheet(f"color: {color}" if level != OK else "")
        self.bar.setStyleSheet(
            "QProgressBar { border: none; background: rgba(128, 128, 128, 60); }"
            f"QProgressBar::chunk {{ background: {color}; }}"
        )


def replay_question(check: ReplayCheck) -> str | None:
    """The confirmation to ask before a replay (title ``REPLAY_TITLE``), or None when the
    replay would likely fit in what remains (or spends no daily allocation)."""
    if not check.likely_exceeds:
        return None
    return f"{check.message}\n\nReplay anyway?"
