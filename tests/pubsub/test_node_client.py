"""An unmodified third-party client, Salesforce developer relations' Node client, against
the emulator over TLS: it logs in by itself (client credentials + userinfo), receives 1,000
CDC events from EARLIEST with bitmaps decoded to the same field names we decode, and
publishes one event that our client then receives."""

from __future__ import annotations

import asyncio
import random
import ssl
from pathlib import Path

import pytest

from sfmonitor.emulator import Emulator
from sfmonitor.pubsub import CallbackTokens, EventQueue, PubSubConnection, ReplayFrom
from tests.helpers.tls import make_tls
from tests.helpers.waiting import wait_until
from tests.pubsub.helpers import login
from tests.pubsub.node_client import node_ready, run_node

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(600)]
CDC = "/data/AccountChangeEvent"
EVENT = "/event/Low_Ink__e"


def make_changes(emu: Emulator, count: int) -> None:
    """``count`` Account change events with assorted fields: compound children, nulls."""
    rng = random.Random(7)
    org = emu.org
    accounts: list[str] = []
    while CDC not in org.channels or org.channels[CDC].published < count:
        if not accounts or rng.random() < 0.2:
            accounts.append(
                org.create_record(
                    "Account",
                    {"Name": f"Acme {len(accounts)}", "Phone": "1", "BillingCity": "Paris"},
                )
            )
        else:
            choices = {
                "Phone": str(rng.randrange(10**6)),
                "Industry": rng.choice(["Energy", "Retail", "Media"]),
                "BillingCity": rng.choice(["Lyon", "Nice", "Lille"]),
                "BillingStreet": f"{rng.randrange(99)} rue Haute",
                "ShippingCountry": rng.choice(["FR", "DE"]),
                "AnnualRevenue": rng.randrange(10**7),
                "Description": rng.choice([None, "vip"]),
            }
            picked = dict(rng.sample(sorted(choices.items()), rng.randrange(1, 4)))
            org.update_record(rng.choice(accounts), picked)


async def test_node_client_reads_1000_cdc_events_and_publishes_to_our_client(
    tmp_path: Path,
) -> None:
    reason = node_ready()
    if reason:
        pytest.skip(reason)
    ca, context = make_tls(tmp_path)
    tls = ((tmp_path / "server.pem").read_bytes(), (tmp_path / "server.key").read_bytes())
    async with Emulator() as emu:
        await emu.stop()
        await emu.start(ssl_context=context)
        address = await emu.start_pubsub(tls=tls)
        make_changes(emu, 1000)
        retained = [e.replay_id for e in emu.org.channels[CDC].events]
        assert len(retained) == 1000
        creds = await login(emu.url, ssl.create_default_context(cafile=str(ca)))
        async with PubSubConnection(
            CallbackTokens(creds), address, root_certificates=ca.read_bytes()
        ) as conn:
            ours = EventQueue(maxsize=100)
            conn.subscribe(CDC, ours, ReplayFrom.earliest())
            mine = {e.replay_value: e for e in await ours.take(1000)}
            published = EventQueue()
            conn.subscribe(EVENT, published, ReplayFrom.latest())
            await wait_until(lambda: emu.pubsub and emu.pubsub.streams.get(EVENT))

            port = address.rpartition(":")[2]
            lines = await run_node(emu.url, f"localhost:{port}", CDC, 1000, EVENT, ca)
            node_events = [line for line in lines if line["kind"] == "event"]
            assert sorted(e["replayId"] for e in node_events) == retained
            compound = 0
            for line in node_events:
                header = mine[line["replayId"]].event.raw["data"]["payload"]["ChangeEventHeader"]
                for key in ("changedFields", "nulledFields", "diffFields"):
                    assert line[key] == header[key], (line["replayId"], key)
                compound += any("." in f for f in line["changedFields"])
            assert compound > 100  # compound children (BillingAddress.City) were compared

            [sent] = [line for line in lines if line["kind"] == "published"]
            event = await asyncio.wait_for(published.get(), 30)
            assert event.replay_value == sent["replayId"]
            payload = event.event.raw["data"]["payload"]
            assert payload["Printer_Model__c"] == "from-node"
            assert payload["Ink_Percentage__c"] == 0.42
