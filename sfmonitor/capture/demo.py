"""The demo: the built-in emulator with seeded traffic, and a "Demo" profile pointing at it
(its CometD/REST side and its Pub/Sub API, plaintext on loopback).

Used by ``sfmonitor --demo`` and ``sfmonitor capture --demo``. The demo's secrets are the
emulator's well-known defaults; they are kept in memory, never in the keyring.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)
from sfmonitor.emulator.scenarios import DEMO_CHANNELS
from sfmonitor.store import CaptureStore, Environment, Profile, Secrets, Subscription

__all__ = [
    "DEMO_CHANNELS",
    "DEMO_PROFILE",
    "DEMO_SECRETS",
    "Demo",
    "start_demo",
]

DEMO_PROFILE = "Demo"
DEMO_SECRETS = Secrets(password=DEFAULT_PASSWORD, client_secret=DEFAULT_CLIENT_SECRET)


def _save_demo_profile(store: CaptureStore, profile: Profile) -> Profile:
    """Create or update the Demo profile and add any demo channel it lacks."""
    existing = store.profile(profile.name)
    if existing is not None:  # the user's choice of transport stays
        profile = replace(profile, id=existing.id, transport=existing.transport)
    saved = store.save_profile(profile)
    assert saved.id is not None
    known = {s.channel for s in store.subscriptions(saved.id)}
    for channel in DEMO_CHANNELS:
        if channel not in known:
            store.set_subscription(saved.id, Subscription(channel))
    return saved


@dataclass
class Demo:
    emulator: Emulator
    profile: Profile
    secrets: Secrets


async def start_demo(store: CaptureStore | None, rate: float = 5.0, seed: int = 1) -> Demo:
    """Serve the emulator on 127.0.0.1 with demo traffic; create or update the Demo profile.

    With ``store`` None (a read-only folder) the profile is returned without being saved.
    """
    # A fresh org each run: ids above any earlier run's, so old captures stay valid.
    emulator = Emulator(
        EmulatorConfig(replay_id_base=int(time.time() * 1000), catalog="demo")
    )  # some channels of every kind, for "Add channels…"
    await emulator.start("127.0.0.1", 0)
    try:
        pubsub = await emulator.start_pubsub("127.0.0.1", 0)
    except BaseException:
        await emulator.stop()
        raise
    emulator.start_scenario(seed=seed, rate=rate)
    profile = Profile(
        DEMO_PROFILE,
        Environment.DEMO,
        emulator.url,
        username=DEFAULT_USERNAME,
        client_id=DEFAULT_CLIENT_ID,
        pubsub_endpoint=f"http://{pubsub}",
    )
    if store is not None:  # written off the event loop (it may be a window's Qt thread)
        profile = await asyncio.to_thread(_save_demo_profile, store, profile)
    return Demo(emulator, profile, DEMO_SECRETS)
