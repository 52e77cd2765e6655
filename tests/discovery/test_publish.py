"""Publishing against the emulator: the form from describe, a REST publish whose EventUuid
is the delivered event's (seen by our CometD client), refusals, the generic push."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from sfmonitor.discovery import (
    PublishError,
    PublishResult,
    PushResult,
    describe_event,
    publish,
    publish_event,
    push_generic,
)
from sfmonitor.emulator import Emulator
from sfmonitor.streaming import SimpleSalesforceStreaming
from tests.discovery.conftest import MakeEmulator, credentials, login

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def listening(emu: Emulator, channel: str) -> AsyncIterator[asyncio.Queue[Any]]:
    """Our CometD client subscribed to ``channel``; events arrive in the queue."""
    received: asyncio.Queue[Any] = asyncio.Queue()
    async with SimpleSalesforceStreaming(**credentials(emu)) as client:
        reply = await client.subscribe(channel)
        assert reply[0]["successful"], reply

        async def consume() -> None:
            async for event in client.events():
                received.put_nowait(event)

        task = asyncio.ensure_future(consume())
        try:
            yield received
        finally:
            await client.ask_stop()
            await asyncio.wait_for(task, 10)


async def test_describe_makes_a_form(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    form = await describe_event(emu.url, await login(emu.url), "/event/Shipment_Update__e")
    assert form.name == "Shipment_Update__e" and form.label == "Shipment Update"
    fields = {f.name: f for f in form.fields}
    assert "ReplayId" not in fields and "EventUuid" not in fields  # set by Salesforce
    assert [f.name for f in form.fields if f.required] == ["Tracking_Number__c"]
    assert fields["Tracking_Number__c"].length == 40
    assert fields["Status__c"].default == "In Transit" and not fields["Status__c"].required
    assert fields["Fragile__c"].type == "boolean" and fields["Fragile__c"].default is False
    assert fields["Packages__c"].default == 1 and fields["Packages__c"].scale == 0
    assert fields["Weight_Kg__c"].type == "double" and fields["Weight_Kg__c"].scale == 2
    assert fields["Ship_Date__c"].type == "date" and fields["Delivered_At__c"].type == "datetime"
    assert form.template()["Status__c"] == "In Transit"
    payload = form.payload(
        {
            "Tracking_Number__c": "1Z999",
            "Weight_Kg__c": "2.5",
            "Packages__c": "3",
            "Fragile__c": "yes",
            "Ship_Date__c": "2026-12-01",
            "Delivered_At__c": "2026-12-02T10:00:00+01:00",
            "Notes__c": "",
        }
    )
    assert payload == {
        "Tracking_Number__c": "1Z999",
        "Weight_Kg__c": 2.5,
        "Packages__c": 3,
        "Fragile__c": True,
        "Ship_Date__c": "2026-12-01",
        "Delivered_At__c": "2026-12-02T09:00:00.000Z",
    }
    with pytest.raises(ValueError) as bad:
        form.payload({"Weight_Kg__c": "heavy", "Packages__c": "1.5", "Nope__c": "x"})
    words = str(bad.value)
    for text in ("Nope__c: Shipment_Update__e has no such field", "Tracking Number: required",
                 "'heavy' is not a number", "Packages: a whole number"):  # fmt: skip
        assert text in words
    assert form.check({"Carrier__c": "UPS"}) == ["Tracking Number: required"]


async def test_publish_answers_the_event_uuid_delivered(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    token = await login(emu.url)
    async with listening(emu, "/event/Shipment_Update__e") as received:
        result = await publish_event(
            emu.url, token, "Shipment_Update__e", {"Tracking_Number__c": "1Z1"}
        )
        event = await asyncio.wait_for(received.get(), 10)
    assert result.success and result.id.startswith("e00")
    assert result.errors[0]["statusCode"] == "OPERATION_ENQUEUED"
    assert result.event_uuid == event["data"]["event"]["EventUuid"]
    payload = event["data"]["payload"]
    # Salesforce fills in what was left out from the defaults
    assert payload["Status__c"] == "In Transit" and payload["Fragile__c"] is False


async def test_a_refused_publish_keeps_salesforce_words(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    token = await login(emu.url)
    cases = [
        ({}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Tracking_Number__c]"),
        ({"Tracking_Number__c": "1", "Speed__c": 3}, "INVALID_FIELD", "No such column 'Speed__c'"),
        ({"Tracking_Number__c": "1", "Weight_Kg__c": "x"}, "JSON_PARSER_ERROR", "deserialize"),
    ]
    for payload, code, words in cases:
        with pytest.raises(PublishError) as refused:
            await publish_event(emu.url, token, "Shipment_Update__e", payload)
        assert refused.value.code == code and words in refused.value.message
    with pytest.raises(PublishError, match="NOT_FOUND"):
        await publish_event(emu.url, token, "Nope__e", {})
    with pytest.raises(PublishError, match="not a platform event name"):
        await publish_event(emu.url, token, "../limits", {})
    assert "/event/Shipment_Update__e" not in emu.org.channels  # nothing was published


async def test_generic_push(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    token = await login(emu.url)
    quiet = await push_generic(emu.url, token, "/u/deployments", "nobody listens")
    assert quiet.fanout_count == 0
    async with listening(emu, "/u/deployments") as received:
        result = await push_generic(emu.url, token, "/u/deployments", "build 42 deployed")
        event = await asyncio.wait_for(received.get(), 10)
    assert result.fanout_count == -1 and result.channel_id.startswith("0M6")
    assert event["data"]["payload"] == "build 42 deployed"
    with pytest.raises(PublishError, match="NOT_FOUND: no StreamingChannel named /u/nope"):
        await push_generic(emu.url, token, "/u/nope", "x")
    with pytest.raises(PublishError, match="at most 3,000"):
        await push_generic(emu.url, token, "/u/deployments", "x" * 3001)
    with pytest.raises(PublishError, match="not a generic channel"):
        await push_generic(emu.url, token, "/u/x' OR Name != '", "x")


async def test_publish_by_channel_name(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    token = await login(emu.url)
    event = await publish(emu.url, token, "/event/Order_Placed__e", {"Order_Number__c": "A-1"})
    assert isinstance(event, PublishResult) and event.event_uuid
    pushed = await publish(emu.url, token, "/u/notifications", {"text": "hi"})
    assert isinstance(pushed, PushResult)
    (retained,) = emu.org.channels["/u/notifications"].events
    assert b'"payload":"{\\"text\\":\\"hi\\"}"' in retained.body
    for channel in ("/topic/AccountUpdates", "/data/AccountChangeEvent", "/event/LoginEventStream"):
        with pytest.raises(PublishError, match="can be published to"):
            await publish(emu.url, token, channel, {})
    with pytest.raises(PublishError, match="JSON object"):
        await publish(emu.url, token, "/event/Order_Placed__e", "text")
