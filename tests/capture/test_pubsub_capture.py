"""One capture over both of Salesforce's APIs: CometD and Pub/Sub channels of one profile
against one emulator (the same org behind both), every event stored once, a restart
resuming on both, keepalives moving the Pub/Sub resume point, gaps and refusals reported
as CometD's are, one stream per topic, and every stream closed at stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.pubsub_config import PubSubSettings
from sfmonitor.pubsub import encode_replay
from sfmonitor.store import CaptureStore, EventQuery, Profile, Subscription
from sfmonitor.streaming import ChannelChange, ChannelStatus, GapNotice, Notice
from tests.helpers.capture_run import Run
from tests.helpers.profiles import save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
COMETD_CHANNELS = ("/topic/Foo", "/event/Low_Ink__e")
PUBSUB_CHANNELS = ("/data/AccountChangeEvent", "/event/Order_Placed__e")
CHANNELS = COMETD_CHANNELS + PUBSUB_CHANNELS


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    config = EmulatorConfig(connect_timeout=2.0)
    config.pubsub = PubSubSettings(keepalive=0.3)
    async with Emulator(config) as emu:
        emu.org.ensure_topic("Foo")
        await emu.start_pubsub()
        yield emu


def both_apis_profile(store: CaptureStore, emu: Emulator) -> Profile:
    assert emu.pubsub is not None
    profile = save_emulator_profile(store, emu.url, COMETD_CHANNELS)
    profile.pubsub_endpoint = f"http://{emu.pubsub.address}"
    profile = store.save_profile(profile)
    assert profile.id is not None
    for channel in PUBSUB_CHANNELS:
        store.set_subscription(profile.id, Subscription(channel, transport="pubsub"))
    return profile


class Watch:
    """The notices a capture reports (both APIs' channels)."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def __call__(self, notice: Notice) -> None:
        self.notices.append(notice)

    def status(self, channel: str) -> ChannelChange | None:
        changes = [n for n in self.notices if isinstance(n, ChannelChange) and n.channel == channel]
        return changes[-1] if changes else None

    def live(self, channels: tuple[str, ...]) -> bool:
        return all(
            (s := self.status(c)) is not None and s.status is ChannelStatus.LIVE for c in channels
        )


def publish(emu: Emulator, n: int, start: int = 0) -> set[tuple[str, int]]:
    out = set()
    for i in range(start, start + n):
        channel = CHANNELS[i % len(CHANNELS)]
        out.add((channel, emu.org.publish_any(channel, {"Name": f"event {i}"}).replay_id))
    return out


def rows(store: CaptureStore, profile: Profile) -> list[tuple[str, int, bytes | None]]:
    found = store.fetch(EventQuery(profile.id), limit=10**6)
    with store._reader_conn() as conn:  # the bytes are not part of a table row
        raw = dict(conn.execute("SELECT id, replay_bytes FROM events").fetchall())
    return [(r.channel, r.replay_id or 0, raw.get(r.id)) for r in found if r.kind != "gap"]


async def test_both_apis_at_once_store_every_event_once_and_resume_after_a_restart(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = both_apis_profile(store, emulator)
    watch = Watch()
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: watch.live(CHANNELS))
    assert emulator.pubsub is not None
    published = publish(emulator, 200)
    await run.until(lambda: len(rows(store, profile)) == 200)
    await run.stop()
    pubsub = emulator.pubsub
    await wait_until(lambda: not any(pubsub.streams.values()), what="the server sees no stream")
    published |= publish(emulator, 100, start=200)  # while nobody listens

    run = Run(store, profile, on_notice=watch)
    published |= publish(emulator, 100, start=300)
    await run.until(lambda: len(rows(store, profile)) >= 400)
    await asyncio.sleep(0.3)  # anything extra would be a duplicate
    await run.stop()
    stored = rows(store, profile)
    assert sorted((c, r) for c, r, _ in stored) == sorted(published)
    assert len(stored) == len(set(stored))
    for channel, replay_id, raw in stored:
        if channel in PUBSUB_CHANNELS:
            assert raw == encode_replay(replay_id)  # the bytes as sent, and their value
        else:
            assert raw is None
    states = store.replay_states(profile.id or 0)
    for channel in CHANNELS:
        newest = max(r for c, r in published if c == channel)
        assert states[channel].replay_id == newest
        over_pubsub = channel in PUBSUB_CHANNELS
        assert states[channel].transport == ("pubsub" if over_pubsub else "cometd")
        assert states[channel].replay_bytes == (encode_replay(newest) if over_pubsub else None)
    assert store.avro_schemas()  # the schemas of the Pub/Sub events, for offline decoding


async def test_a_keepalive_moves_the_stored_resume_point_with_no_event(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = both_apis_profile(store, emulator)
    emulator.org.publish_any("/data/AccountChangeEvent", {"Name": "old"})  # not wanted
    watch = Watch()
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: watch.live(CHANNELS))
    latest = emulator.org.channels["/data/AccountChangeEvent"].last_replay_id

    def moved() -> bool:
        state = store.replay_states(profile.id or 0).get("/data/AccountChangeEvent")
        return state is not None and state.replay_bytes == encode_replay(latest)

    await run.until(moved)  # a keepalive's latest_replay_id, written with no event
    await run.stop()
    assert not rows(store, profile)
    emulator.org.publish_any("/data/AccountChangeEvent", {"Name": "new"})
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: len(rows(store, profile)) == 1)
    await run.stop()
    (only,) = rows(store, profile)
    assert only[1] > latest  # resumed after the keepalive's position, not from "new"


async def test_never_two_streams_per_topic_and_refusals_are_shown_with_the_rpc_id(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = both_apis_profile(store, emulator)
    assert profile.id is not None
    store.set_subscription(profile.id, Subscription("/event/No_Such__e", transport="pubsub"))
    watch = Watch()
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: watch.live(CHANNELS))
    await run.until(lambda: (s := watch.status("/event/No_Such__e")) and s.error)
    refused = watch.status("/event/No_Such__e")
    assert refused is not None and refused.status is ChannelStatus.ERROR
    assert "was not found" in refused.error and "rpcId: " in refused.error
    assert "[sfdc.platform.eventbus.grpc.topic.not.found]" in refused.error
    sub = Subscription("/event/Order_Placed__e", transport="pubsub")
    for _ in range(3):  # added again and again while capturing
        await run.capture.add_channel(sub)
    conn, pubsub = run.capture.pubsub.conn, emulator.pubsub
    assert conn is not None and pubsub is not None
    topic = conn.subscriptions["/event/Order_Placed__e"]
    await run.until(lambda: topic.status is ChannelStatus.LIVE)
    await run.until(lambda: len(pubsub.streams.get("/event/Order_Placed__e", ())) == 1)
    emulator.org.publish_any("/event/Order_Placed__e", {"Order_Number__c": "ONE"})
    await run.until(lambda: len(rows(store, profile)) == 1)
    await asyncio.sleep(0.3)
    await run.stop()
    assert len(rows(store, profile)) == 1
    assert run.capture.pubsub.conn is None  # closed with the run


async def test_a_stale_pubsub_position_is_a_gap_row_like_cometds(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = both_apis_profile(store, emulator)
    channel = "/event/Order_Placed__e"
    first = emulator.org.publish_any(channel, {"Order_Number__c": "1"}).replay_id
    assert profile.id is not None
    store.set_subscription(
        profile.id, Subscription(channel, replay_policy="all", transport="pubsub")
    )
    watch = Watch()
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: len(rows(store, profile)) == 1)
    await run.stop()
    lost = emulator.org.publish_any(channel, {"Order_Number__c": "2"}).replay_id
    emulator.org.clock.advance(73 * 3600)  # it expires before the next start: the gap
    kept = emulator.org.publish_any(channel, {"Order_Number__c": "3"}).replay_id
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: len(rows(store, profile)) == 2)
    await run.stop()
    (gap,) = store.gaps(profile.id)
    assert gap.channel == channel and gap.stored_replay_id == first
    assert gap.action == "replay_all" and "replayid.corrupted" in gap.server_text
    assert any(isinstance(n, GapNotice) and n.channel == channel for n in watch.notices)
    assert {r for _, r, _ in rows(store, profile)} == {first, kept}
    assert lost not in {r for _, r, _ in rows(store, profile)}
    (marker,) = store.fetch(EventQuery(profile.id, kinds=frozenset({"gap"})))
    assert marker.summary.startswith(f"Gap: replay id {first} could not be served")


async def test_a_channel_moved_to_the_other_transport_starts_from_its_policy(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = both_apis_profile(store, emulator)
    channel = "/event/Low_Ink__e"  # on CometD first
    watch = Watch()
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: watch.live(CHANNELS))
    first = emulator.org.publish_any(channel, {"n": 1}).replay_id
    await run.until(lambda: len(rows(store, profile)) == 1)
    await run.stop()
    assert store.replay_states(profile.id or 0)[channel].transport == "cometd"
    skipped = emulator.org.publish_any(channel, {"n": 2}).replay_id  # while stopped

    run = Run(store, profile, on_notice=watch, transport="pubsub")  # this run: Pub/Sub
    assert run.capture.transports[channel] == "pubsub"
    assert run.capture.transports["/topic/Foo"] == "cometd"  # Pub/Sub has no PushTopics
    await run.until(lambda: watch.live(CHANNELS))
    await run.until(lambda: store.replay_states(profile.id or 0)[channel].transport == "pubsub")
    after = emulator.org.publish_any(channel, {"n": 3}).replay_id
    await run.until(lambda: len(rows(store, profile)) == 2)
    await run.stop()
    got = {r for c, r, _ in rows(store, profile) if c == channel}
    assert got == {first, after} and skipped not in got  # "new": the position not converted


async def test_a_pubsub_channel_added_from_a_time_keeps_only_what_came_after_it(
    store: CaptureStore, emulator: Emulator
) -> None:
    """ "Add channels… from a time" on Pub/Sub: every retained event is read and those
    created before the time are dropped, while capturing and after a restart alike."""
    profile = both_apis_profile(store, emulator)
    assert profile.id is not None
    added, later = "/event/Shipment_Update__e", "/data/ContactChangeEvent"
    emulator.org.clock.offset = -600.0  # ten minutes ago: before the chosen time
    for channel in (added, later):
        emulator.org.publish_any(channel, {"Name": "too old"})
    emulator.org.clock.offset = -60.0  # a minute ago: after it
    recent = {
        ch: emulator.org.publish_any(ch, {"Name": "recent"}).replay_id for ch in (added, later)
    }
    emulator.org.clock.offset = 0.0
    since_ms = int((time.time() - 300) * 1000)
    watch = Watch()
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: watch.live(CHANNELS))
    await run.capture.add_channel(Subscription(added, transport="pubsub"), since_ms)
    await run.until(lambda: watch.live((added,)))
    await run.until(lambda: any(c == added for c, _, _ in rows(store, profile)))
    await asyncio.sleep(0.5)  # an older event would have come by now
    await run.stop()
    assert [(c, r) for c, r, _ in rows(store, profile)] == [(added, recent[added])]

    # saved as the window saves it, then a restart before the channel's first event
    store.set_subscription(profile.id, Subscription(later, transport="pubsub"))
    store.mark_live_since(profile.id, later, since_ms, "pubsub")
    run = Run(store, profile, on_notice=watch)
    await run.until(lambda: watch.live((later,)))
    await run.until(lambda: any(c == later for c, _, _ in rows(store, profile)))
    await asyncio.sleep(0.5)
    await run.stop()
    assert [(c, r) for c, r, _ in rows(store, profile) if c == later] == [(later, recent[later])]
