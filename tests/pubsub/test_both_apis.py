"""One org, two APIs: events published by REST, by Pub/Sub ``Publish`` and by the demo
scenario reach a CometD client and a Pub/Sub client with the same replay ids; publishing
checks; schemas fetched once and read from a ``SchemaStore``; faults over HTTP."""

from __future__ import annotations

import aiohttp
import pytest

from sfmonitor.emulator import Scenario
from sfmonitor.pubsub import (
    EventQueue,
    MemorySchemaStore,
    PubSubConnection,
    PubSubError,
    ReplayFrom,
)
from tests.helpers.probe import BayeuxProbe
from tests.helpers.waiting import wait_until
from tests.pubsub.helpers import connected, pubsub_emulator, tokens_for

pytestmark = pytest.mark.asyncio
TOPIC = "/event/Order_Placed__e"


async def test_rest_publish_and_scenario_events_have_one_replay_id_on_both_apis() -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn, BayeuxProbe(emu.url) as probe:
        queue = EventQueue()
        conn.subscribe(TOPIC, queue, ReplayFrom.latest())
        await wait_until(lambda: emu.pubsub and emu.pubsub.streams.get(TOPIC))
        await probe.login()
        await probe.start(TOPIC)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{emu.url}/services/data/v62.0/sobjects/Order_Placed__e/",
                json={"Order_Number__c": "REST-1", "Amount__c": 12.5},
                headers={"Authorization": f"Bearer {probe.token}"},
            ) as r,
        ):
            assert r.status == 201, await r.text()
        [published] = await conn.publish(TOPIC, [{"Order_Number__c": "PS-1", "Amount__c": 3}])
        assert not published.error
        scenario = Scenario(emu.org, seed=5)
        scenario.place_order()
        cometd = await probe.events(3)
        pubsub = await queue.take(3)
        assert [m["data"]["event"]["replayId"] for m in cometd] == [e.replay_value for e in pubsub]
        assert pubsub[1].replay_id == published.replay_id
        numbers = [e.event.raw["data"]["payload"]["Order_Number__c"] for e in pubsub]
        assert numbers[:2] == ["REST-1", "PS-1"] and numbers[2].startswith("ORD-")
        assert [m["data"]["payload"]["Order_Number__c"] for m in cometd] == numbers


async def test_publish_refuses_what_the_topic_cannot_take() -> None:
    async with pubsub_emulator() as emu, connected(emu) as conn:
        with pytest.raises(ValueError, match="not fields of"):
            await conn.publish(TOPIC, [{"No_Such_Field__c": 1}])
        with pytest.raises(PubSubError, match="does not accept publishing"):
            await conn.publish("/data/AccountChangeEvent", [{"Name": "x"}])
        with pytest.raises(PubSubError) as info:
            await conn.publish("/event/No_Such__e", [{}])
        assert info.value.error_code.endswith("not.found") and info.value.rpc_id


async def test_schemas_are_fetched_once_and_then_read_from_the_schema_store() -> None:
    async with pubsub_emulator() as emu:
        for i in range(300):
            emu.org.publish_any(TOPIC, {"Order_Number__c": f"N{i}"})
        store = MemorySchemaStore()
        async with connected(emu, schema_store=store) as conn:
            queue = EventQueue()
            conn.subscribe(TOPIC, queue, ReplayFrom.earliest())
            await queue.take(300)
            assert conn.schemas.fetches == 1 and len(store.schemas) == 1
        assert emu.pubsub is not None
        tokens = await tokens_for(emu)
        async with PubSubConnection(
            tokens, emu.pubsub.address, tls=False, schema_store=store
        ) as again:
            queue = EventQueue()
            again.subscribe(TOPIC, queue, ReplayFrom.earliest())
            await queue.take(300)
            assert again.schemas.fetches == 0  # decoded from the stored schema


async def test_pubsub_faults_through_the_control_api() -> None:
    async with pubsub_emulator() as emu, aiohttp.ClientSession() as http:
        assert emu.pubsub is not None
        for body in (
            {"fault": "pubsub_unavailable", "count": 2},
            {"fault": "pubsub_stall", "seconds": 30},
        ):
            async with http.post(f"{emu.url}/__emulator/faults", json=body) as r:
                assert r.status == 200, await r.text()
        assert emu.pubsub.faults.unavailable == 2 and emu.pubsub.faults.stalled_until
        async with http.post(f"{emu.url}/__emulator/faults", json={"fault": "pubsub_reset"}) as r:
            assert (await r.json()) == {"reset": 0}
        async with http.get(f"{emu.url}/__emulator/state") as r:
            state = await r.json()
        assert state["pubsub"]["faults"]["stalled"] is True
        async with http.post(f"{emu.url}/__emulator/reset") as r:
            assert r.status == 200
        assert emu.pubsub.faults.unavailable == 0 and emu.pubsub.faults.stalled_until is None
