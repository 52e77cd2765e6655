"""The org's limits in the status bar, and the question before a replay that would likely use
up the daily delivery allocation.

``GET /limits/`` is asked when the capture goes live, then every 5 minutes while it stays
connected, and again right before a replay. A replay re-delivers every event the org
retains on its channels (24 hours for PushTopics and generic channels, 72 for the others),
and each delivery counts: the events captured in that window are the estimate (a floor:
events from before the capture are not known here). When ``check_replay`` says it would
likely exceed what remains, sfmonitor asks first, in every org: once the allocation is
spent no subscriber of the org receives these events until it resets.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from sfmonitor.discovery import Discovery, Kind, Limits, ReplayCheck, check_replay, fetch_limits
from sfmonitor.store import EventQuery, Profile

from .discovery_flow import FAILURES
from .limits_meter import REPLAY_TITLE, LimitsMeter, replay_question

if TYPE_CHECKING:
    from .main_window import MainWindow

POLL_EVERY_MS = 5 * 60 * 1000
HOUR_MS = 3600 * 1000


def kind_of(channel: str, found: Discovery | None = None) -> Kind:
    """A channel's kind: as discovery found it, else from its name."""
    known = found.find(channel) if found is not None else None
    if known is not None:
        return known.kind
    if channel.startswith("/topic/"):
        return Kind.PUSH_TOPIC
    if channel.startswith("/u/"):
        return Kind.GENERIC
    if channel.endswith("__chn"):
        return Kind.CUSTOM_CHANNEL
    if channel.startswith("/data/"):
        return Kind.CHANGE_EVENT
    if channel.endswith("__e"):
        return Kind.PLATFORM_EVENT
    # real-time event monitoring streams are named …EventStream; other standard events
    # count against the allocation (the safe guess)
    return Kind.MONITORING if channel.endswith("Stream") else Kind.STANDARD_EVENT


def retention_ms(kind: Kind) -> int:
    return (24 if kind.cometd_only else 72) * HOUR_MS


class LimitsFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.meter = LimitsMeter()
        self.meter.hide()
        window.status.addPermanentWidget(self.meter)
        self.limits: Limits | None = None
        self.timer = QTimer(window)
        self.timer.setInterval(POLL_EVERY_MS)
        self.timer.timeout.connect(lambda: window.tasks.spawn(self.poll()))
        window.controller.state_changed.connect(lambda *_: self._state_changed())

    def _state_changed(self) -> None:
        c = self.w.controller
        if c.live and not self.timer.isActive():
            self.timer.start()
            self.w.tasks.spawn(self.poll())
        elif not c.connected:
            self.timer.stop()
            self.limits = None
            self.meter.hide()

    async def poll(self) -> Limits | None:
        """Ask the org of the running capture for its limits and show them (None when
        they could not be read: the meter says why)."""
        profile = self.w.controller.profile
        if profile is None or not self.w.controller.connected:
            return None
        try:
            limits = await self.w.access.call(
                profile,
                lambda a: fetch_limits(a.instance_url, a.token, a.api_version, http=a.http),
            )
        except FAILURES as exc:
            self.meter.set_error(exc)
            self.meter.show()
            return None
        if not self.w.controller.capturing(profile):
            return None  # another profile meanwhile
        self.limits = limits
        self.meter.set_limits(limits)
        self.meter.setToolTip(f"{profile.name}\n{self.meter.toolTip()}")
        self.meter.show()
        return limits

    async def replay_allowed(self, profile: Profile, channels: list[str]) -> bool:
        """Ask first when a replay of ``channels`` would likely exceed what remains of an
        allocation it spends; True to go on."""
        limits = await self.poll()
        if limits is None:
            return True  # not known (no View Setup, no answer): the meter says so
        checks = await self.checks(profile, channels, limits)
        over = [check for check in checks if check.likely_exceeds]
        if not over:
            return True
        question = "\n\n".join(replay_question(check) or "" for check in over)
        return await self.w.dialogs.confirm(REPLAY_TITLE, question)

    async def checks(
        self, profile: Profile, channels: list[str], limits: Limits
    ) -> list[ReplayCheck]:
        """One check per allocation the replay spends, from the events captured on those
        channels within what the org retains."""
        assert profile.id is not None
        found = await self.w.discovery.cached(profile)
        by_kind: dict[Kind, list[str]] = defaultdict(list)
        for channel in channels:
            by_kind[kind_of(channel, found)].append(channel)
        now = int(time.time() * 1000)
        spent: dict[str, tuple[Kind, int]] = {}
        for kind, names in by_kind.items():
            query = EventQuery(
                profile.id, channels=frozenset(names), since_ms=now - retention_ms(kind)
            )
            count = await self.w.worker.run(self.w.store.count, query)
            allocation = check_replay(limits, 0, kind).allocation
            if allocation is not None:
                before = spent.get(allocation, (kind, 0))[1]
                spent[allocation] = (kind, before + max(count, 1))
        return [check_replay(limits, events, kind) for kind, events in spent.values()]
