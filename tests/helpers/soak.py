"""The chaos soak (the emulator, the real clients and the real store while events of every
kind are published and a fault fires every few seconds), shared by tests/test_soak.py
(short) and benchmarks/soak.py (long). One capture runs CometD channels and Pub/Sub
channels of the same org side by side, and the faults hit both APIs. At the end every
published event must be stored once, except those a recorded gap accounts for."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sfmonitor.capture import Capture
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.faults import Pending
from sfmonitor.emulator.pubsub_config import PubSubSettings
from sfmonitor.pubsub import SubscribeSettings
from sfmonitor.store import CaptureStore, EventQuery, Subscription
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile

COMETD_CHANNELS = (
    "/topic/Soak",
    "/event/Low_Ink__e",
    "/data/AccountChangeEvent",
    "/u/soak",
    "/event/LoginEventStream",
)
PUBSUB_CHANNELS = ("/event/Soak_Order__e", "/data/ContactChangeEvent", "/event/LogoutEventStream")
CHANNELS = COMETD_CHANNELS + PUBSUB_CHANNELS
# the Pub/Sub side: keepalives often (positions move), a watchdog that a stall trips
SERVER = PubSubSettings(keepalive=1.0)
WATCHDOG = SubscribeSettings(idle_timeout=2.0, backoff_base=0.2, backoff_cap=2.0)
PUBSUB_FAULTS = ("pubsub_unavailable", "pubsub_reset", "pubsub_stall")
FAULTS = (
    "expire_sessions",
    "restart",
    "revoke_tokens",
    "http_5xx",
    "reset",
    "slow",
    "malformed",
    "busy_503",
    "batch_cap",
    "retention",
    *PUBSUB_FAULTS,
)


@dataclass
class SoakResult:
    published: int
    stored: int
    lost: int  # not accounted for by a gap: must be 0
    accounted: int  # lost to retention, each covered by a recorded gap
    duplicates: int
    gaps: int
    over_pubsub: int = 0  # stored events of the Pub/Sub channels
    faults: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"soak: published={self.published} stored={self.stored} "
            f"(over Pub/Sub {self.over_pubsub}) lost={self.lost} "
            f"duplicates={self.duplicates} gaps={self.gaps} faults={sum(self.faults.values())} "
            f"seconds={self.seconds:.0f}"
        )


def inject(emulator: Emulator, fault: str, rng: random.Random) -> None:
    """One fault of the emulator, as the field produces them."""
    if fault == "expire_sessions":
        emulator.expire_sessions()
    elif fault == "restart":
        emulator.restart()
    elif fault == "revoke_tokens":
        emulator.revoke_tokens()
    elif fault == "http_5xx":
        emulator.faults.add(Pending("http_status", 2, status=rng.choice((500, 502, 503))))
    elif fault == "reset":
        emulator.faults.add(Pending("reset", 1))
    elif fault == "slow":
        emulator.faults.add(Pending("slow", 1, delay=1.0))
    elif fault == "malformed":
        emulator.faults.add(Pending("malformed", 1, malformed=rng.choice(("html", "truncated"))))
    elif fault == "busy_503":
        emulator.faults.busy += 2
    elif fault == "batch_cap":
        emulator.org.config.max_events_per_reply = rng.choice((25, 200, 1000))
    elif fault == "retention":
        emulator.org.clock.advance(73 * 3600)  # every retained event expires
        if rng.random() < 0.5:
            emulator.expire_sessions()  # and the client must resume from a stale id
            if emulator.pubsub is not None:
                emulator.pubsub.faults.reset_streams()  # on both APIs
    elif emulator.pubsub is not None:
        inject_pubsub(emulator, fault, rng)


def inject_pubsub(emulator: Emulator, fault: str, rng: random.Random) -> None:
    """A fault of the Pub/Sub API: calls refused (``service.unavailable``), open streams
    cut (RST_STREAM), or every stream silent for a while (the client's watchdog)."""
    assert emulator.pubsub is not None
    faults = emulator.pubsub.faults
    if fault == "pubsub_unavailable":
        faults.unavailable += 2
    elif fault == "pubsub_reset":
        faults.reset_streams()
    elif fault == "pubsub_stall":
        faults.stall(rng.uniform(1.0, 4.0))


async def soak(
    events: int, rate: float, every: float, seed: int, folder: Path, settle: float = 60.0
) -> SoakResult:
    rng = random.Random(seed)
    started = time.monotonic()
    faults: Counter[str] = Counter()
    published: set[tuple[str, int]] = set()
    config = EmulatorConfig(connect_timeout=2.0, max_interval=10.0)
    config.pubsub = SERVER
    async with Emulator(config) as emulator:
        emulator.org.ensure_topic("Soak")
        emulator.org.platform_events.add("Soak_Order__e")
        address = await emulator.start_pubsub()
        with CaptureStore.open(folder) as store:
            profile = save_emulator_profile(store, emulator.url, COMETD_CHANNELS, "Soak")
            profile.pubsub_endpoint = f"http://{address}"
            profile = store.save_profile(profile)
            for channel in PUBSUB_CHANNELS:
                store.set_subscription(profile.id, Subscription(channel, transport="pubsub"))
            live: set[str] = set()
            capture = Capture(
                store,
                profile,
                DEMO_SECRETS,
                store.subscriptions(profile.id),
                on_notice=lambda n: (
                    live.add(n.channel) if getattr(n, "status", None) == "live" else None
                ),
            )
            capture.pubsub.settings = WATCHDOG
            task = asyncio.ensure_future(capture.run())
            while live != set(CHANNELS):
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)

            async def publish() -> None:
                chunk = max(1, int(rate / 50))
                n = 0
                while n < events:
                    for _ in range(min(chunk, events - n)):
                        channel = CHANNELS[n % len(CHANNELS)]
                        event = emulator.org.publish_any(channel, {"Name": f"soak {n}"})
                        published.add((channel, event.replay_id))
                        n += 1
                    await asyncio.sleep(0.02)

            async def chaos() -> None:
                while True:
                    await asyncio.sleep(every * rng.uniform(0.5, 1.5))
                    fault = rng.choice(FAULTS)
                    inject(emulator, fault, rng)
                    faults[fault] += 1

            publisher = asyncio.ensure_future(publish())
            chaos_task = asyncio.ensure_future(chaos())
            try:
                await publisher
            finally:
                chaos_task.cancel()
            emulator.faults.clear()
            if emulator.pubsub is not None:
                emulator.pubsub.faults.clear()
            emulator.org.config.max_events_per_reply = 1000

            def rows() -> list[tuple[str, int]]:
                found = store.fetch(EventQuery(profile.id), limit=10**9)
                return [(r.channel, r.replay_id or 0) for r in found if r.kind != "gap"]

            deadline = time.monotonic() + settle
            while time.monotonic() < deadline:
                if task.done():
                    task.result()
                have = set(rows())
                if have >= published or not (
                    published - have - accounted_for(emulator, store, profile.id, published - have)
                ):
                    break
                await asyncio.sleep(0.25)
            await asyncio.sleep(0.5)  # anything arriving now would be a duplicate
            await capture.stop()
            await task
            stored_rows = rows()
            missing = published - set(stored_rows)
            accounted = accounted_for(emulator, store, profile.id, missing)
            extra = set(stored_rows) - published
            if missing - accounted:
                by_channel = Counter(c for c, _ in missing - accounted)
                print(
                    "unaccounted:",
                    dict(by_channel),
                    {
                        c: (
                            min(r for ch, r in missing if ch == c),
                            max(r for ch, r in missing if ch == c),
                            emulator.org.channels[c].newest_purged_id
                            if c in emulator.org.channels
                            else None,
                            store.replay_states(profile.id)[c].replay_id,
                        )
                        for c in by_channel
                    },
                    file=sys.stderr,
                )
            return SoakResult(
                published=len(published),
                stored=len(set(stored_rows) & published),
                lost=len(missing - accounted) + len(extra),
                accounted=len(accounted),
                duplicates=len(stored_rows) - len(set(stored_rows)),
                gaps=len(store.gaps(profile.id)),
                over_pubsub=sum(c in PUBSUB_CHANNELS for c, _ in set(stored_rows) & published),
                faults=faults,
                seconds=time.monotonic() - started,
            )


def accounted_for(
    emulator: Emulator, store: CaptureStore, profile_id: int, missing: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Missing events that retention purged on a channel with a recorded gap below them."""
    gaps: dict[str, list[int]] = {}
    for gap in store.gaps(profile_id):
        gaps.setdefault(gap.channel, []).append(gap.stored_replay_id or 0)
    covered = set()
    for channel, rid in missing:
        log = emulator.org.channels.get(channel)
        purged = log.newest_purged_id if log is not None else None
        if purged is not None and rid <= purged and any(g < rid for g in gaps.get(channel, [])):
            covered.add((channel, rid))
    return covered
