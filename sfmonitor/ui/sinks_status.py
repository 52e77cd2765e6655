"""The sinks of the capture on screen, in the status bar: "sinks: 2 ok / lag 1,204", with
each sink's state, lag and last failure in its tooltip.

Sinks saved on a profile (``sfmonitor sinks add``) run wherever the profile is captured:
in ``sfmonitor capture`` and in this window alike. A data folder has one capture at a
time, so a profile captured here is forwarded from here, or its sinks would fall behind
(and hold its retention back) for as long as the window captures it. The label shows only
while the profile on screen is captured and has sinks; a sink that is retried or has
stopped also shows as a problem (``MonitorController``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfmonitor.sinks import Lag, SinkState

from .palette import ERROR, WARNING

if TYPE_CHECKING:
    from sfmonitor.capture import Forwarding

    from .main_window import MainWindow

WHERE = "Sinks saved on a profile run wherever it is captured: here or in sfmonitor capture."


def summary(lags: list[Lag], held: int = 0) -> tuple[str, str, str]:
    """The label's text, its tooltip and its colour ("" for the default)."""
    counts: dict[str, int] = {}
    for lag in lags:
        word = {
            SinkState.FORWARDING: "ok",
            SinkState.STARTING: "starting",
            SinkState.RETRYING: "retrying",
            SinkState.FAILED: "failed",
        }.get(lag.state, lag.state.value)
        counts[word] = counts.get(word, 0) + 1
    text = "sinks: " + ", ".join(f"{n} {word}" for word, n in counts.items())
    behind = max((lag.events for lag in lags), default=0)
    if behind:
        text += f" / lag {behind:,}"
    details = [f"{lag.sink}: {lag.describe()}" for lag in lags]
    if held:
        details.append(f"Retention held back: {held:,} events kept until the sinks have them")
    details.append(WHERE)
    color = ERROR if "failed" in counts else WARNING if "retrying" in counts else ""
    return text, "\n".join(details), color


class SinkStatus:
    """Refreshed with the window's clock (once a second)."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._counting = False

    def refresh(self) -> None:
        w, c = self.w, self.w.controller
        forwarding = c.capture.forwarding if c.capture is not None else None
        shown = c.capturing(w.profile) and c.connected
        if forwarding is None or not forwarding.plans or not shown:
            w.status.show_sinks("")
            return
        lags = forwarding.lags()
        w.status.show_sinks(*summary(lags, c.capture.retention_held if c.capture else 0))
        idle = (SinkState.FAILED, SinkState.STARTING)
        if not self._counting and any(lag.state in idle for lag in lags):
            self._counting = True  # their backlog, which no forwarder counts
            w.tasks.spawn(self._recount(forwarding))

    async def _recount(self, forwarding: Forwarding) -> None:
        try:
            await forwarding.recount()
        finally:
            self._counting = False
