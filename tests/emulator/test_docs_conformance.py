"""The emulator against Salesforce's documentation (issue 13, items 23-26), and the settings
for what the documentation leaves open."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sfmonitor.emulator import DEFAULT_USERNAME, Emulator
from sfmonitor.emulator.config import User
from tests.emulator.conftest import MakeEmulator
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def publish_rest(p: BayeuxProbe, url: str, name: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {p.token}"}
    async with p.http.post(
        f"{url}/services/data/v68.0/sobjects/{name}/", json=body, headers=headers
    ) as r:
        assert r.status == 201
        return await r.json()


async def test_publish_answers_enqueued_with_the_events_uuid(make_emulator: MakeEmulator) -> None:
    emulator = await make_emulator()
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/event/Low_Ink__e")
        replies = [
            await publish_rest(p, emulator.url, "Low_Ink__e", {"Ink_Percentage__c": i / 10})
            for i in range(3)
        ]
        events = await p.events(3)
    sent = [r["errors"][0]["message"] for r in replies]
    assert all(UUID.match(u) for u in sent) and len(set(sent)) == 3
    assert [e["data"]["event"]["EventUuid"] for e in events] == sent

    quiet = await make_emulator(publish_enqueued_status=False)  # the pre-enqueue answer
    async with BayeuxProbe(quiet.url) as p:
        await p.login()
        assert (await publish_rest(p, quiet.url, "Low_Ink__e", {}))["errors"] == []


async def test_cdc_carries_system_fields_and_the_last_modifier_when_it_changes(
    emulator: Emulator,
) -> None:
    bob = User("bob@sfmonitor.example", "bob-password")
    emulator.org.add_user(bob)
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/data/ContactChangeEvent")
        rid = emulator.org.create_record("Contact", {"LastName": "Lovelace"}, DEFAULT_USERNAME)
        emulator.org.update_record(rid, {"Email": "ada@example.com"}, bob.username)
        emulator.org.update_record(rid, {"Title": "Countess"}, bob.username)
        created, by_bob, again = (e["data"]["payload"] for e in await p.events(3))
    ada = emulator.org.users[DEFAULT_USERNAME].user_id
    assert {k: created[k] for k in ("OwnerId", "CreatedById", "LastModifiedById")} == {
        "OwnerId": ada,
        "CreatedById": ada,
        "LastModifiedById": ada,
    }
    assert UUID.match(created["ChangeEventHeader"]["transactionKey"])
    assert created["ChangeEventHeader"]["changeOrigin"] == "com/salesforce/api/rest/68.0"
    assert by_bob["LastModifiedById"] == bob.user_id  # another user saved it
    assert "LastModifiedById" in by_bob["ChangeEventHeader"]["changedFields"]
    assert "LastModifiedById" not in again and "LastModifiedDate" in again  # bob again
    record = emulator.org.records[rid].fields
    assert record["CreatedById"] == ada and record["LastModifiedById"] == bob.user_id


async def test_resubscribing_with_another_replay_id(make_emulator: MakeEmulator) -> None:
    """Salesforce's documentation is silent: by default a second subscribe in the same
    session changes nothing (CometD's rule); ``resubscribe_replay="replay"`` applies it."""
    for setting, expected in (("ignore", 0), ("replay", 3)):
        emulator = await make_emulator(resubscribe_replay=setting)
        async with BayeuxProbe(emulator.url) as p:
            await p.start("/event/Low_Ink__e")
            for i in range(3):
                emulator.org.publish_any("/event/Low_Ink__e", {"N__c": i})
            assert len(await p.events(3)) == 3
            reply = await p.subscribe("/event/Low_Ink__e", -2)
            assert reply["successful"]
            emulator.org.publish_any("/event/Low_Ink__e", {"N__c": "live"})
            again = await p.events(expected + 1)
            assert len(again) == expected + 1, setting
            assert again[-1]["data"]["payload"]["N__c"] == "live"


async def test_monitoring_created_date_is_a_setting(make_emulator: MakeEmulator) -> None:
    emulator = await make_emulator(monitoring_created_date=False)
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/event/LoginEventStream")
        emulator.org.publish_monitoring("LoginEventStream", {"Status": "Success"})
        (event,) = await p.events(1)
    assert "CreatedDate" not in event["data"]["payload"]


async def test_demo_login_events_look_like_the_field_reference(emulator: Emulator) -> None:
    from sfmonitor.emulator.scenarios import Scenario

    async with BayeuxProbe(emulator.url) as p:
        await p.start("/event/LoginEventStream")
        Scenario(emulator.org, seed=3).login()
        (event,) = await p.events(1)
    payload = event["data"]["payload"]
    for key in ("CreatedDate", "EventDate", "EventIdentifier", "EventUuid", "LoginKey"):
        assert key in payload
    assert UUID.match(payload["EventIdentifier"]) and len(payload["LoginKey"]) == 16
