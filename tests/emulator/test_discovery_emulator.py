"""The emulator's side of discovery, limits and publish, in raw HTTP: query and Tooling query
shapes and paging, their errors and traps, describes, custom channels that deliver, the
push resource, and ``--scenario large`` on the command line."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from sfmonitor.discovery import discover
from sfmonitor.emulator import Emulator, EmulatorConfig
from tests.discovery.conftest import LIMITED, login, users
from tests.helpers.probe import BayeuxProbe

pytestmark = pytest.mark.asyncio


async def get(emu: Emulator, token: str, path: str, **headers: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{emu.url}{path}", headers={"Authorization": f"Bearer {token}", **headers}) as r,
    ):
        return r.status, await r.json()


def q(soql: str, tooling: bool = False) -> str:
    return f"/services/data/v62.0/{'tooling/' if tooling else ''}query?q={quote(soql)}"


async def demo(**settings: Any) -> Emulator:
    emu = Emulator(EmulatorConfig(catalog="demo", connect_timeout=2.0, **settings))
    await emu.start()
    return emu


async def test_query_shapes_where_order_limit() -> None:
    emu = await demo()
    try:
        token = await login(emu.url)
        soql = (
            "SELECT Name, IsActive FROM PushTopic WHERE Name LIKE '%E%' AND NOT "
            "(Name IN ('WebLeads')) ORDER BY Name DESC LIMIT 3 OFFSET 1"
        )
        status, body = await get(emu, token, q(soql))
        assert status == 200 and set(body) == {"totalSize", "done", "records"}
        names = [r["Name"] for r in body["records"]]
        assert names == ["ContactChanges", "BigOpportunities", "AccountUpdates"]
        first = body["records"][0]
        assert first["attributes"]["type"] == "PushTopic"
        assert first["attributes"]["url"].startswith("/services/data/v62.0/sobjects/PushTopic/0IF")
        assert list(first) == ["attributes", "Name", "IsActive"]
        soql = "SELECT Id, EntityName FROM RealTimeEvent WHERE IsEnabled = true OR EntityName = 'x'"
        status, body = await get(emu, token, q(soql, tooling=True))
        assert status == 200 and body["entityTypeName"] == "RealTimeEvent"
        assert body["size"] == body["totalSize"] == 5 and body["queryLocator"] is None
        assert {r["EntityName"] for r in body["records"]} == {
            "LoginEventStream", "LogoutEventStream", "ApiAnomalyEvent", "LoginEvent",
            "ApiAnomalyEventStore",
        }  # fmt: skip
    finally:
        await emu.stop()


async def test_paging_by_setting_and_by_batch_size_header() -> None:
    emu = await demo(query_page_size=4, users=users())
    try:
        token = await login(emu.url)
        soql = "SELECT Id, SelectedEntity FROM PlatformEventChannelMember"
        status, page = await get(emu, token, q(soql, tooling=True))
        seen = [r["Id"] for r in page["records"]]
        assert status == 200 and page["done"] is False and len(seen) == 4
        assert page["nextRecordsUrl"].startswith("/services/data/v62.0/tooling/query/01g")
        assert page["nextRecordsUrl"].endswith(page["queryLocator"])
        while not page["done"]:
            status, page = await get(emu, token, page["nextRecordsUrl"])
            assert status == 200
            seen += [r["Id"] for r in page["records"]]
        assert len(seen) == len(set(seen)) == page["totalSize"] == 10
        assert "nextRecordsUrl" not in page
        status, page = await get(
            emu, token, q("SELECT Name FROM PushTopic"), **{"Sforce-Query-Options": "batchSize=2"}
        )
        assert len(page["records"]) == 2 and page["totalSize"] == 5
        following = page["nextRecordsUrl"]
        assert following.startswith("/services/data/v62.0/query/01g")
        other = await login(emu.url, LIMITED)
        status, body = await get(emu, other, following)  # a locator is its user's
        assert status == 400 and body[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
        status, body = await get(emu, token, following.replace("query/", "tooling/query/"))
        assert status == 400 and body[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    finally:
        await emu.stop()


async def test_query_errors_have_salesforce_codes() -> None:
    emu = await demo(users=users())
    try:
        token = await login(emu.url)
        status, body = await get(emu, token, q("SELECT Name, Colour FROM PushTopic"))
        assert status == 400 and body[0]["errorCode"] == "INVALID_FIELD"
        message = body[0]["message"]
        assert "ERROR at Row:1:Column:14\nNo such column 'Colour' on entity 'PushTopic'" in message
        status, body = await get(emu, token, q("SELECT FROM PushTopic"))
        assert status == 400 and body[0]["errorCode"] == "MALFORMED_QUERY"
        status, body = await get(emu, token, q("SELECT Id FROM Nonsense__x"))
        assert body[0]["errorCode"] == "INVALID_TYPE"
        assert body[0]["message"].startswith("sObject type 'Nonsense__x' is not supported.")
        status, body = await get(emu, token, q("SELECT Id FROM RealTimeEvent"))  # Tooling only
        assert status == 400 and body[0]["errorCode"] == "INVALID_TYPE"
        limited = await login(emu.url, LIMITED)
        status, body = await get(emu, limited, q("SELECT Id FROM RealTimeEvent", tooling=True))
        assert status == 400 and body[0]["errorCode"] == "INVALID_TYPE"
        status, body = await get(emu, limited, q("SELECT Id FROM PushTopic"))
        assert status == 200  # not a setup object
        emu.org.config.setup_refusal = "INSUFFICIENT_ACCESS"
        query = q("SELECT Id FROM PlatformEventChannel", tooling=True)
        status, body = await get(emu, limited, query)
        assert status == 403 and body[0]["errorCode"] == "INSUFFICIENT_ACCESS"
        status, body = await get(emu, limited, "/services/data/v62.0/limits/")
        assert status == 403 and body[0]["errorCode"] == "INSUFFICIENT_ACCESS"
    finally:
        await emu.stop()


async def test_full_name_with_two_rows_is_malformed() -> None:
    emu = await demo()
    try:
        token = await login(emu.url)
        soql = "SELECT FullName, MasterLabel FROM PlatformEventChannel ORDER BY DeveloperName"
        status, body = await get(emu, token, q(soql, tooling=True))
        assert status == 400 and body == [
            {
                "message": "When retrieving results with Metadata or FullName fields, the "
                "query qualifications must specify no more than one row for retrieval. "
                "Result size: 2",
                "errorCode": "MALFORMED_QUERY",
            }
        ]
        one = (
            "SELECT FullName, Metadata FROM PlatformEventChannel "
            "WHERE DeveloperName = 'SalesEvents'"
        )
        status, body = await get(emu, token, q(one, tooling=True))
        assert status == 200 and body["records"][0]["FullName"] == "SalesEvents__chn"
        assert body["records"][0]["Metadata"]["channelType"] == "data"
        # discovery never asks for FullName: it works with the two channels
        found = await discover(emu.url, token)
        assert found.source("custom_channels").ok  # type: ignore[union-attr]
    finally:
        await emu.stop()


async def test_describe_global_and_describes() -> None:
    emu = await demo(users=users(hidden_objects=("PushTopic", "Low_Ink__e"), view_setup=True))
    try:
        token = await login(emu.url)
        status, body = await get(emu, token, "/services/data/v62.0/sobjects/")
        assert status == 200 and body["encoding"] == "UTF-8"
        entries = {e["name"]: e for e in body["sobjects"]}
        change = entries["Invoice__ChangeEvent"]
        assert change["associateEntityType"] == "ChangeEvent"
        assert change["associateParentEntity"] == "Invoice__c" and change["custom"]
        event = entries["Order_Placed__e"]
        assert event["custom"] and event["keyPrefix"].startswith("e0") and event["createable"]
        assert event["urls"]["describe"] == "/services/data/v62.0/sobjects/Order_Placed__e/describe"
        assert not entries["BatchApexErrorEvent"]["custom"]
        assert "LoginEventStream" in entries and "PushTopic" in entries
        status, described = await get(
            emu, token, "/services/data/v62.0/sobjects/AccountChangeEvent/describe"
        )
        assert status == 200 and described["fields"][0]["name"] == "ChangeEventHeader"
        assert not any(f["createable"] for f in described["fields"])
        limited = await login(emu.url, LIMITED)
        _, body = await get(emu, limited, "/services/data/v62.0/sobjects/")
        names = {e["name"] for e in body["sobjects"]}
        assert "PushTopic" not in names and "Low_Ink__e" not in names and "Order_Placed__e" in names
        status, body = await get(emu, limited, "/services/data/v62.0/sobjects/Low_Ink__e/describe")
        assert status == 404 and body[0]["errorCode"] == "NOT_FOUND"
    finally:
        await emu.stop()


async def test_custom_channels_deliver_their_members_events() -> None:
    emu = await demo()
    try:
        async with BayeuxProbe(emu.url) as p:
            await p.start("/data/SalesEvents__chn")
            for channel in ("/event/OrderStream__chn", "/data/TaskChangeEvent"):
                reply = await p.subscribe(channel)  # TaskChangeEvent: has change events,
                assert reply["successful"], reply  # though not selected
            assert not (await p.subscribe("/data/Nope__chn"))["successful"]
            account = emu.org.create_record("Account", {"Name": "Acme"})
            emu.org.create_record("Contact", {"LastName": "Not a member"})
            emu.org.publish_platform_event("Shipment_Update__e", {"Tracking_Number__c": "1"})
            events = await p.events(2)
        by_channel = {e["channel"]: e for e in events}
        change = by_channel["/data/SalesEvents__chn"]["data"]
        assert change["payload"]["ChangeEventHeader"]["recordIds"] == [account]
        own = emu.org.channels["/data/SalesEvents__chn"].events[0].replay_id
        assert change["event"]["replayId"] == own
        order = by_channel["/event/OrderStream__chn"]["data"]
        assert order["payload"]["Tracking_Number__c"] == "1"
    finally:
        await emu.stop()


async def test_push_resource_and_limits_counters() -> None:
    emu = await demo()
    try:
        async with BayeuxProbe(emu.url) as p:
            await p.start("/u/deployments")
            rid = next(r for r, n in emu.org.streaming_channels.items() if n == "/u/deployments")
            path = f"/services/data/v62.0/sobjects/StreamingChannel/{rid}/push"
            status, body = await get(emu, p.token or "", path)
            me = next(iter(emu.org.users.values())).user_id
            assert status == 200 and body == {
                "OnlineUserIds": [me],
                "ChannelName": "/u/deployments",
            }
            targeted = {"pushEvents": [{"payload": "x", "userIds": [me, "005000000000000AAA"]}]}
            async with p.http.post(
                f"{emu.url}{path}", json=targeted, headers={"Authorization": f"Bearer {p.token}"}
            ) as r:
                assert await r.json() == [
                    {"fanoutCount": 1, "userOnlineStatus": {me: True, "005000000000000AAA": False}}
                ]
            _, before = await get(emu, p.token or "", "/services/data/v62.0/limits/")
            emu.org.publish_platform_event("Order_Placed__e", {"Order_Number__c": "1"})
            _, after = await get(emu, p.token or "", "/services/data/v62.0/limits/")
        hourly = "HourlyPublishedPlatformEvents"
        assert before[hourly]["Remaining"] - after[hourly]["Remaining"] == 1
        assert before["DailyApiRequests"]["Remaining"] - after["DailyApiRequests"]["Remaining"] == 1
        assert after["DailyStreamingApiEvents"] == after["DailyDurableStreamingApiEvents"]
    finally:
        await emu.stop()


async def test_cli_scenario_large_serves_over_500_channels() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sfmonitor.emulator", "--scenario", "large", "--page-size", "100",
        "--rate", "1", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        url = line.split("listening on ")[1].split()[0]
        found = await discover(url, await login(url))
        assert len(found.channels) >= 500 and all(s.ok for s in found.sources)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
