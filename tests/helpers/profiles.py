"""Profiles of the emulator's default user: the setup of many tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable

from sfmonitor.capture.demo import DEMO_SECRETS
from sfmonitor.emulator.config import DEFAULT_CLIENT_ID, DEFAULT_USERNAME
from sfmonitor.store import CaptureStore, Environment, Profile, Subscription

__all__ = ["DEMO_SECRETS", "save_emulator_profile"]


def save_emulator_profile(
    store: CaptureStore,
    url: str,
    channels: Iterable[str],
    name: str = "Emu",
    environment: Environment = Environment.CUSTOM,
) -> Profile:
    """A new profile logging in to the emulator at ``url`` as its default user (with
    ``DEMO_SECRETS``), subscribed to ``channels``: the setup of tests and benchmarks."""
    profile = store.save_profile(
        Profile(name, environment, url, username=DEFAULT_USERNAME, client_id=DEFAULT_CLIENT_ID)
    )
    assert profile.id is not None
    for channel in channels:
        store.set_subscription(profile.id, Subscription(channel))
    return profile
