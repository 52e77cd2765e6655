"""The capture pipeline against the emulator: every event stored once, resume after a stop,
live-since markers, gaps, and a failing disk."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from sfmonitor.capture import StoreWriteError
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.faults import Pending
from sfmonitor.store import CaptureStore, EventQuery, Profile, Subscription
from sfmonitor.streaming import ConnectionState, StateChange
from tests.helpers.capture_run import CHANNELS, Run, publish, stored
from tests.helpers.profiles import save_emulator_profile

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        emu.org.ensure_topic("Foo")
        yield emu


@pytest.fixture
def profile(store: CaptureStore, emulator: Emulator) -> Profile:
    return save_emulator_profile(store, emulator.url, CHANNELS)


async def test_every_event_is_stored_once_and_a_restart_resumes(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    run = Run(store, profile)
    await run.until(lambda: run.live == set(CHANNELS))
    published = publish(emulator, 200)
    await run.until(lambda: len(stored(store, profile)) == 200)
    await run.stop()
    published |= publish(emulator, 100, start=200)  # while nobody listens

    run = Run(store, profile)
    published |= publish(emulator, 100, start=300)
    await run.until(lambda: len(stored(store, profile)) >= 400)
    await asyncio.sleep(0.3)  # anything extra would be a duplicate
    await run.stop()
    rows = stored(store, profile)
    assert sorted(rows) == sorted(published) and len(rows) == len(set(rows))
    states = store.replay_states(profile.id or 0)
    for channel in CHANNELS:
        assert states[channel].replay_id == max(r for c, r in published if c == channel)


async def test_a_channel_live_before_a_crash_gets_what_it_missed(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    emulator.org.clock.offset = -600  # created 10 minutes ago: not wanted ("new")
    before = publish(emulator, 8)
    emulator.org.clock.offset = 0
    run = Run(store, profile)
    await run.until(lambda: run.live == set(CHANNELS))
    await run.until(
        lambda: (
            all(s.live_since for s in store.replay_states(profile.id or 0).values())
            and len(store.replay_states(profile.id or 0)) == len(CHANNELS)
        )
    )
    run.task.cancel()  # no clean stop: as if the process died
    await asyncio.gather(run.task, return_exceptions=True)
    missed = publish(emulator, 12, start=8)

    run = Run(store, profile)
    await run.until(lambda: len(stored(store, profile)) >= 12)
    await asyncio.sleep(0.3)
    await run.stop()
    assert set(stored(store, profile)) == missed
    assert not (set(stored(store, profile)) & before)


async def test_a_stale_replay_id_is_recorded_as_a_gap(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    assert profile.id is not None
    store.set_subscription(profile.id, Subscription("/event/Low_Ink__e", replay_policy="all"))

    def pe(n: int) -> tuple[str, int]:
        return (
            "/event/Low_Ink__e",
            emulator.org.publish_any("/event/Low_Ink__e", {"n": n}).replay_id,
        )

    first = {pe(1), pe(2)}
    run = Run(store, profile)
    await run.until(lambda: len(stored(store, profile)) == 2)
    await run.stop()
    stored_id = max(r for _, r in first)
    lost = {pe(3), pe(4)}  # published while stopped, then expired before the next start
    emulator.org.clock.advance(73 * 3600)  # past the 72 h retention: the stored id is stale
    kept = {pe(5)}

    run = Run(store, profile)
    await run.until(lambda: len(stored(store, profile)) == 3)
    await run.stop()
    (gap,) = store.gaps(profile.id)
    assert gap.channel == "/event/Low_Ink__e" and gap.stored_replay_id == stored_id
    assert gap.action == "replay_all" and gap.server_text.startswith("400::The replayId")
    assert set(stored(store, profile)) == first | kept
    assert not lost & set(stored(store, profile))
    (marker,) = store.fetch(EventQuery(profile.id, kinds=frozenset({"gap"})))
    assert marker.channel == "/event/Low_Ink__e" and marker.summary.startswith(
        f"Gap: replay id {stored_id} could not be served (replayed every retained event): 400::"
    )
    assert run.capture.stats.gaps == 1


async def test_replay_override_all_fetches_retained_events(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    retained = publish(emulator, 16)
    run = Run(store, profile, replay="all")
    await run.until(lambda: len(stored(store, profile)) == 16)
    await run.stop()
    assert set(stored(store, profile)) == retained


async def test_a_failing_disk_stops_the_capture_without_advancing_replay_ids(
    store: CaptureStore, profile: Profile, emulator: Emulator, data_folder: Path
) -> None:
    run = Run(store, profile)
    await run.until(lambda: run.live == set(CHANNELS))
    publish(emulator, 4)
    await run.until(lambda: len(stored(store, profile)) == 4)
    states_before = store.replay_states(profile.id or 0)
    conn = sqlite3.connect(data_folder / "capture.db")
    conn.execute(
        "CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    conn.commit()
    conn.close()
    publish(emulator, 4, start=4)
    with pytest.raises(StoreWriteError, match=r"disk full.*fetched again on the next start"):
        await asyncio.wait_for(run.task, 10)
    assert store.replay_states(profile.id or 0) == states_before


async def test_retention_runs_while_capturing(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    profile.keep_events = 10
    store.save_profile(profile)
    run = Run(store, profile)
    run.capture.retention_every = 0.05
    await run.until(lambda: run.live == set(CHANNELS))
    published = sorted(publish(emulator, 40), key=lambda e: e[1])
    newest = max(r for c, r in published if c == "/u/news")
    await run.until(
        lambda: (
            (state := store.replay_states(profile.id or 0).get("/u/news")) is not None
            and state.replay_id == newest
        )
    )
    await run.until(lambda: store.count(EventQuery(profile.id)) == 10)
    await run.stop()
    assert store.max_event_id() == 40  # the newest ten are what is left


async def test_an_org_out_of_reach_at_the_first_login_is_tried_again(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    """The reconnect loop both front ends share: the window used to fail at once where
    the headless command retried."""
    emulator.faults.add(Pending("http_status", 2, scope="oauth", status=503))
    notices: list[object] = []
    run = Run(store, profile, on_notice=notices.append)
    await run.until(lambda: run.live == set(CHANNELS))
    retries = [
        n for n in notices if isinstance(n, StateChange) and n.state is ConnectionState.RECONNECTING
    ]
    assert len(retries) == 2 and all(n.delay and n.delay > 0 for n in retries)
    assert "503" in retries[0].reason
    published = publish(emulator, 8)
    await run.until(lambda: len(stored(store, profile)) == 8)
    await run.stop()
    assert sorted(stored(store, profile)) == sorted(published)


async def test_stop_during_the_wait_between_two_attempts_ends_the_run_at_once(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    emulator.faults.add(Pending("http_status", 50, scope="oauth", status=503))
    notices: list[object] = []
    run = Run(store, profile, on_notice=notices.append)
    await run.until(lambda: any(isinstance(n, StateChange) for n in notices))
    await run.capture.stop()
    await asyncio.wait_for(run.task, 5)  # not after the backoff: stop() cuts it short
    assert run.task.exception() is None


async def test_replay_brings_every_retained_event_again_after_the_cutoff(
    store: CaptureStore, profile: Profile, emulator: Emulator
) -> None:
    published = publish(emulator, 12)  # before the capture: not wanted with "new"
    run = Run(store, profile)
    await run.until(lambda: run.live == set(CHANNELS))
    assert stored(store, profile) == []
    refused = await run.capture.replay(["/u/news", "/topic/Nope"], since=0.0)
    assert "/topic/Nope" in refused  # the server's words for a channel it does not have
    news = {(c, r) for c, r in published if c == "/u/news"}
    await run.until(lambda: set(stored(store, profile)) == news)
    await run.stop()
