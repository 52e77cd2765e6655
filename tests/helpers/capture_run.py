"""A capture running in a task, as the headless command runs it, and what it stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sfmonitor.capture import Capture
from sfmonitor.emulator import Emulator
from sfmonitor.store import CaptureStore, EventQuery, Profile
from tests.helpers.profiles import DEMO_SECRETS
from tests.helpers.waiting import wait_until

CHANNELS = ("/topic/Foo", "/event/Low_Ink__e", "/data/AccountChangeEvent", "/u/news")


class Run:
    """One capture running in a task, as the headless command runs it."""

    def __init__(self, store: CaptureStore, profile: Profile, **options: object) -> None:
        self.live: set[str] = set()
        self.capture = Capture(
            store,
            profile,
            DEMO_SECRETS,
            store.subscriptions(profile.id or 0),
            **options,  # type: ignore[arg-type]
        )
        self.capture.client.add_listener(self._seen)
        self.task = asyncio.ensure_future(self.capture.run())

    def _seen(self, notice: object) -> None:
        if getattr(notice, "status", None) == "live":
            self.live.add(notice.channel)  # type: ignore[attr-defined]

    async def until(self, condition: Callable[[], object], timeout: float = 15) -> None:
        """Wait for ``condition``; a capture that ended meanwhile fails with its error."""

        def met() -> object:
            if self.task.done():
                self.task.result()
            return condition()

        await wait_until(met, timeout)

    async def stop(self) -> None:
        await self.capture.stop()
        await asyncio.wait_for(self.task, 10)


def publish(emulator: Emulator, n: int, start: int = 0) -> set[tuple[str, int]]:
    out = set()
    for i in range(start, start + n):
        ch = CHANNELS[i % len(CHANNELS)]
        out.add((ch, emulator.org.publish_any(ch, {"Name": f"event {i}"}).replay_id))
    return out


def stored(store: CaptureStore, profile: Profile) -> list[tuple[str, int]]:
    """Captured events (not the rows that mark gaps)."""
    rows = store.fetch(EventQuery(profile.id), limit=10**6)
    return [(r.channel, r.replay_id or 0) for r in rows if r.kind != "gap"]
