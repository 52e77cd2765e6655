"""The writer puts a Pub/Sub keepalive's position after the events buffered before it (in
the same transaction), and drops it when a later event of its channel is newer."""

from __future__ import annotations

import pytest

from sfmonitor.capture import StoreWriter
from sfmonitor.store import CaptureStore, Environment, Profile
from sfmonitor.store.records import PubSubWire
from tests.helpers.events import event, platform_event

pytestmark = pytest.mark.asyncio
CHANNEL = "/event/Order_Placed__e"


def wire(value: int) -> PubSubWire:
    return PubSubWire(value.to_bytes(8, "big"), "schema", b"avro")


async def test_a_position_follows_the_events_buffered_before_it(store: CaptureStore) -> None:
    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    writer = StoreWriter(store, profile.id, interval=60)  # nothing written before close
    writer.start()
    writer.add(event(platform_event(0, "a")), wire(10))
    writer.set_position(CHANNEL, (50).to_bytes(8, "big"))  # a keepalive after it
    writer.set_position("/data/AccountChangeEvent", (7).to_bytes(8, "big"))
    writer.add(event(platform_event(0, "b")), wire(60))  # newer than the keepalive
    await writer.close()
    states = store.replay_states(profile.id)
    assert states[CHANNEL].replay_bytes == (60).to_bytes(8, "big")  # not set back to 50
    assert states["/data/AccountChangeEvent"].replay_id == 7  # with no event at all
    assert writer.stored == 2


async def test_a_position_alone_is_written(store: CaptureStore) -> None:
    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    writer = StoreWriter(store, profile.id, interval=60)
    writer.start()
    writer.add(event(platform_event(0, "a")), wire(10))
    writer.set_position(CHANNEL, (50).to_bytes(8, "big"))
    await writer.close()
    state = store.replay_states(profile.id)[CHANNEL]
    assert (state.replay_id, state.transport) == (50, "pubsub")
