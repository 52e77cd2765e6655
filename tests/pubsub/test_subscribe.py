"""Subscribe against the emulator: both APIs see the same events with the same replay ids,
CDC bitmaps decode to field names, replay ids round-trip as bytes, flow control."""

from __future__ import annotations

import pytest

from sfmonitor.pubsub import EventQueue, ReplayFrom, replay_value
from sfmonitor.streaming import ChannelChange, ChannelStatus
from tests.helpers.waiting import wait_until
from tests.pubsub.helpers import connected, pubsub_emulator

pytestmark = pytest.mark.asyncio


async def test_cdc_from_earliest_matches_cometd_replay_ids_and_fields() -> None:
    async with pubsub_emulator() as emu:
        org = emu.org
        rid = org.create_record("Account", {"Name": "Acme", "Phone": "1", "BillingCity": "Paris"})
        org.update_record(rid, {"Phone": "2", "BillingCity": "Lyon"})
        org.update_record(rid, {"Phone": None})
        retained = org.channels["/data/AccountChangeEvent"].events
        async with connected(emu) as conn:
            queue = EventQueue()
            conn.subscribe("/data/AccountChangeEvent", queue, ReplayFrom.earliest())
            events = await queue.take(3)
        assert [e.replay_value for e in events] == [e.replay_id for e in retained]
        assert [len(e.replay_id) for e in events] == [8, 8, 8]
        created, updated, nulled = (e.event for e in events)
        assert created.change == "CREATE" and updated.change == "UPDATE"
        header = updated.raw["data"]["payload"]["ChangeEventHeader"]
        # an update also changes LastModifiedDate, which Salesforce lists among the changes
        assert header["changedFields"] == ["Phone", "LastModifiedDate", "BillingAddress.City"]
        assert updated.raw["data"]["payload"]["BillingAddress"] == {"City": "Lyon"}
        assert "Name" not in updated.raw["data"]["payload"]  # unchanged: left out, as CometD
        assert nulled.raw["data"]["payload"]["ChangeEventHeader"]["nulledFields"] == ["Phone"]
        assert nulled.raw["data"]["payload"]["Phone"] is None
        assert updated.summary.startswith("Account " + rid + " UPDATE Phone")


async def test_live_events_and_custom_replay_resume_after_a_given_id() -> None:
    async with pubsub_emulator() as emu:
        for i in range(5):
            emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": i / 10})
        ids = [e.replay_id for e in emu.org.channels["/event/Low_Ink__e"].events]
        async with connected(emu) as conn:
            queue = EventQueue()
            sub = conn.subscribe("/event/Low_Ink__e", queue, ReplayFrom.custom(ids[1]))
            got = await queue.take(3)
            assert [e.replay_value for e in got] == ids[2:]
            assert got[0].event.raw["data"]["payload"]["Ink_Percentage__c"] == 0.2
            emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 0.9})
            live = await queue.get()
            assert live.replay_value == emu.org.channels["/event/Low_Ink__e"].last_replay_id
            assert sub.resume == live.replay_id
            assert live.event.created_at.year >= 2024 and live.event.kind == "platform_event"
        assert any(
            isinstance(n, ChannelChange) and n.status is ChannelStatus.LIVE for n in queue.notices
        )


async def test_flow_control_never_more_than_100_outstanding() -> None:
    async with pubsub_emulator() as emu:
        await emu.generate("/data/AccountChangeEvent", 1000, 300)
        async with connected(emu) as conn:
            queue = EventQueue(maxsize=1)
            conn.subscribe("/data/AccountChangeEvent", queue, ReplayFrom.earliest())
            first = await queue.take(100)
            assert emu.pubsub is not None
            streams = await wait_until(lambda: [s for v in emu.pubsub.streams.values() for s in v])
            # the consumer holds the reader: the server may send no more than 100 ahead
            assert streams[0].credit + (streams[0].sent - 100) <= 100
            rest = await queue.take(900)
        values = [e.replay_value for e in first + rest]
        assert values == [e.replay_id for e in emu.org.channels["/data/AccountChangeEvent"].events]
        assert replay_value(rest[-1].replay_id) == values[-1]
