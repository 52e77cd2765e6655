"""Event shapes for every kind (reference §3) fired through the REST API (§1.9)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from sfmonitor.emulator import DEFAULT_USERNAME, Emulator
from sfmonitor.emulator.ids import is_salesforce_id
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def rest(p: BayeuxProbe, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {p.token}"}
    async with p.http.request(
        method, f"{p.url}/services/data/v62.0/{path}", json=body, headers=headers
    ) as r:
        text = await r.text()
        import json

        return r.status, (json.loads(text) if text else None)


async def test_versions_and_limits(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        async with p.http.get(f"{emulator.url}/services/data/") as r:
            versions = await r.json()
        assert versions[-1] == {  # the release orgs run on in December 2026
            "label": "Winter '27",
            "url": "/services/data/v68.0",
            "version": "68.0",
        }
        labels = {v["version"]: v["label"] for v in versions}
        assert labels["37.0"] == "Summer '16" and labels["62.0"] == "Winter '25"
        assert labels["66.0"] == "Spring '26" and labels["67.0"] == "Summer '26"
        assert [float(v["version"]) for v in versions] == sorted(
            float(v["version"]) for v in versions
        )
        await p.start()
        status, limits = await rest(p, "GET", "limits/")
        assert status == 200
        assert limits["DurableStreamingApiConcurrentClients"] == {"Max": 2000, "Remaining": 1999}
        for key in (
            "DailyDurableStreamingApiEvents",
            "DailyDurableGenericStreamingApiEvents",
            "DailyDeliveredPlatformEvents",
        ):
            assert set(limits[key]) == {"Max", "Remaining"}


async def test_pushtopic_events_from_record_changes(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        status, created = await rest(
            p,
            "POST",
            "sobjects/PushTopic/",
            {
                "Name": "BigTech",
                "Query": "SELECT Id, Name, Phone FROM Account WHERE Industry = 'Technology'",
                "NotifyForOperationDelete": False,
                "NotifyForFields": "Select",
            },
        )
        assert status == 201 and created["success"] and created["id"].startswith("0IF")
        assert (await p.subscribe("/topic/BigTech"))["successful"]
        _, acc = await rest(
            p, "POST", "sobjects/Account/", {"Name": "Acme", "Phone": "1", "Industry": "Technology"}
        )
        assert is_salesforce_id(acc["id"]) and acc["id"].startswith("001")
        await rest(p, "POST", "sobjects/Account/", {"Name": "Bank", "Industry": "Banking"})
        await rest(p, "PATCH", f"sobjects/Account/{acc['id']}", {"Description": "ignored"})
        await rest(p, "PATCH", f"sobjects/Account/{acc['id']}", {"Phone": "2"})
        assert (await rest(p, "DELETE", f"sobjects/Account/{acc['id']}", None))[0] == 204
        events = await p.events(2)
        assert len(events) == 2
        first = events[0]
        assert set(first) == {"channel", "data"}
        assert first["channel"] == "/topic/BigTech"
        assert first["data"]["event"]["type"] == "created"
        assert ISO.match(first["data"]["event"]["createdDate"])
        assert first["data"]["sobject"] == {"Id": acc["id"], "Name": "Acme", "Phone": "1"}
        assert events[1]["data"]["event"]["type"] == "updated"
        assert events[1]["data"]["sobject"]["Phone"] == "2"
        assert (await p.connect(advice={"timeout": 0}))[:-1] == []  # delete not notified


async def test_pushtopic_errors(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        status, body = await rest(
            p, "POST", "sobjects/PushTopic/", {"Name": "X" * 26, "Query": "SELECT Id FROM Account"}
        )
        assert status == 400 and body[0]["errorCode"] == "STRING_TOO_LONG"
        status, body = await rest(
            p,
            "POST",
            "sobjects/PushTopic/",
            {"Name": "Bad", "Query": "SELECT COUNT() FROM Account"},
        )
        assert status == 400 and body[0]["errorCode"] == "INVALID_FIELD"
        status, listing = await rest(p, "GET", "sobjects/PushTopic/")
        assert status == 200 and listing["recentItems"] == []


async def test_filtered_pushtopic_subscription(emulator: Emulator) -> None:
    emulator.org.create_push_topic(
        {"Name": "Accounts", "Query": "SELECT Id, Name, Industry FROM Account"}
    )
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/topic/Accounts?Industry=Retail")
        emulator.org.create_record("Account", {"Name": "A", "Industry": "Energy"})
        emulator.org.create_record("Account", {"Name": "B", "Industry": "Retail"})
        (event,) = await p.events(1)
        assert event["data"]["sobject"]["Name"] == "B"
        assert event["channel"] == "/topic/Accounts?Industry=Retail"
        reply = await p.subscribe("/topic/Accounts?Secret=1")
        assert reply["error"] == "400::Query fields {Secret} do not exist on the topic entity"


async def test_platform_event_publish_and_shape(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/event/Low_Ink__e")
        status, body = await rest(
            p,
            "POST",
            "sobjects/Low_Ink__e/",
            {"Printer_Model__c": "XZO-5", "Ink_Percentage__c": 0.2},
        )
        assert status == 201 and body["success"] and body["id"].startswith("e00")
        # publishing is asynchronous: the EventUuid of the event comes back "enqueued"
        (enqueued,) = body["errors"]
        assert enqueued["statusCode"] == "OPERATION_ENQUEUED" and enqueued["fields"] == []
        assert (await rest(p, "POST", "sobjects/Nope__e/", {}))[0] == 404
        (event,) = await p.events(1)
        assert event["data"]["event"]["EventUuid"] == enqueued["message"]
        data = event["data"]
        assert set(data) == {"schema", "payload", "event"}
        assert len(data["schema"]) == 22
        assert ISO.match(data["payload"]["CreatedDate"])
        assert data["payload"]["CreatedById"].startswith("005")
        assert data["payload"]["Printer_Model__c"] == "XZO-5"
        assert "createdDate" not in data["event"]
        uuid.UUID(data["event"]["EventUuid"])
        assert isinstance(data["event"]["replayId"], int)


async def test_generic_push(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start()
        status, ch = await rest(p, "POST", "sobjects/StreamingChannel/", {"Name": "/u/Broadcast"})
        assert status == 201 and ch["id"].startswith("0M6")
        assert (await p.subscribe("/u/Broadcast"))["successful"]
        status, body = await rest(
            p,
            "POST",
            f"sobjects/StreamingChannel/{ch['id']}/push",
            {"pushEvents": [{"payload": "hello world!", "userIds": []}]},
        )
        # a broadcast to a channel with subscribers: -1 (Streaming Channel Push REST API)
        assert status == 200 and body == [{"fanoutCount": -1, "userOnlineStatus": {}}]
        status, body = await rest(
            p,
            "POST",
            f"sobjects/StreamingChannel/{ch['id']}/push",
            {"pushEvents": [{"payload": "x" * 3001}]},
        )
        assert status == 400
        (event,) = await p.events(1)
        assert event == {
            "channel": "/u/Broadcast",
            "data": {
                "event": {
                    "createdDate": event["data"]["event"]["createdDate"],
                    "replayId": event["data"]["event"]["replayId"],
                },
                "payload": "hello world!",
            },
        }


async def test_change_data_capture_shapes(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/data/AccountChangeEvent", "/data/ChangeEvents")
        _, acc = await rest(p, "POST", "sobjects/Account/", {"Name": "Acme", "Phone": None})
        await rest(p, "PATCH", f"sobjects/Account/{acc['id']}", {"Name": "Acme 2", "Phone": "5"})
        await rest(p, "DELETE", f"sobjects/Account/{acc['id']}")
        events = await p.events(6)
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            by_channel.setdefault(e["channel"], []).append(e)
        assert len(by_channel["/data/AccountChangeEvent"]) == 3
        assert len(by_channel["/data/ChangeEvents"]) == 3
        create, update, delete = (
            e["data"]["payload"] for e in by_channel["/data/AccountChangeEvent"]
        )
        header = create["ChangeEventHeader"]
        assert header["entityName"] == "Account" and header["changeType"] == "CREATE"
        assert header["recordIds"] == [acc["id"]]
        assert isinstance(header["commitTimestamp"], int)
        for key in (
            "changeOrigin",
            "transactionKey",
            "sequenceNumber",
            "commitNumber",
            "commitUser",
            "changedFields",
        ):
            assert key in header
        assert create["Name"] == "Acme" and "Phone" not in create
        uuid.UUID(header["transactionKey"])  # 0002343d-9d90-e395-ed20-cf416ba652ad form
        user = emulator.org.users[DEFAULT_USERNAME].user_id
        assert create["OwnerId"] == create["CreatedById"] == create["LastModifiedById"] == user
        assert ISO.match(create["CreatedDate"]) and ISO.match(create["LastModifiedDate"])
        assert "SystemModstamp" not in create and "IsDeleted" not in create
        assert update["ChangeEventHeader"]["changeType"] == "UPDATE"
        changed = update["ChangeEventHeader"]["changedFields"]
        assert sorted(changed) == ["LastModifiedDate", "Name", "Phone"]
        assert update["Name"] == "Acme 2" and ISO.match(update["LastModifiedDate"])
        assert "LastModifiedById" not in update  # the same user saved it last
        assert "CreatedDate" not in update and "OwnerId" not in update
        assert delete["ChangeEventHeader"]["changeType"] == "DELETE"
        assert set(delete) == {"ChangeEventHeader"}


async def test_monitoring_stream_shape(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        await p.start("/event/LoginEventStream")
        emulator.org.publish_monitoring(
            "LoginEventStream", {"Username": "ada@example.com", "Status": "Success"}
        )
        (event,) = await p.events(1)
        payload = event["data"]["payload"]
        # the LoginEventStream field reference lists CreatedDate beside EventDate
        assert ISO.match(payload["EventDate"]) and ISO.match(payload["CreatedDate"])
        assert payload["EventUuid"] == event["data"]["event"]["EventUuid"]


async def test_rest_requires_a_valid_session(emulator: Emulator) -> None:
    async with BayeuxProbe(emulator.url) as p:
        p.token = "invalid"
        status, body = await rest(p, "GET", "limits/")
        assert status == 401 and body[0]["errorCode"] == "INVALID_SESSION_ID"
        await p.login()
        assert (await rest(p, "GET", "sobjects/Account/001000000000000AAA"))[0] == 404
        status, body = await rest(p, "POST", "sobjects/Account/", [1, 2])
        assert status == 400 and body[0]["errorCode"] == "JSON_PARSER_ERROR"
