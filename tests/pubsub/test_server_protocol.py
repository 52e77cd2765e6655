"""The emulator's Pub/Sub server as any gRPC client sees it: metadata checks, flow control
(credit summed and capped, exact counts, pending_num_requested, keepalives, the credit
timeout), and errors with ``error-code`` / ``rpc-id`` trailers and the ``rpcId:`` suffix."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest

from sfmonitor.emulator.pubsub_config import PubSubSettings
from sfmonitor.pubsub.proto import pubsub_api_pb2 as pb
from tests.helpers.waiting import wait_until
from tests.pubsub.helpers import pubsub_emulator
from tests.pubsub.raw import fetch, raw_client, trailers

pytestmark = pytest.mark.asyncio
P = "sfdc.platform.eventbus.grpc."
FAST = PubSubSettings(keepalive=0.2, credit_timeout=0.6)


def rid(n: int) -> bytes:
    return n.to_bytes(8, "big")


async def expect_error(
    call: object, code: grpc.StatusCode, error_code: str, first: object = None
) -> str:
    """The error the call ends with; ``first`` is written before (a server that refuses at
    once may end the call before the write is through, which then fails the same way)."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        if first is not None:
            await call.write(first)  # type: ignore[attr-defined]
        await call.read()  # type: ignore[attr-defined]
    exc = info.value
    assert exc.code() is code, exc.details()
    meta = trailers(exc)
    assert meta.get("error-code", "") == error_code
    assert meta["rpc-id"] and exc.details().endswith(f"rpcId: {meta['rpc-id']}")
    return exc.details()


@pytest.mark.parametrize(
    ("override", "error_code"),
    [
        ({"accesstoken": "00D!not-a-token"}, P + "service.auth.error"),
        ({"accesstoken": None}, P + "service.auth.error"),
        ({"instanceurl": "https://elsewhere.example"}, P + "service.auth.headers.invalid"),
        ({"tenantid": "00D000000000000AAA"}, P + "service.auth.headers.invalid"),
        ({"tenantid": None}, P + "service.auth.headers.invalid"),
    ],
)
async def test_metadata_is_checked_on_every_call(
    override: dict[str, str | None], error_code: str
) -> None:
    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        call = raw.subscribe(**override)  # type: ignore[arg-type]
        first = fetch("/event/Low_Ink__e", 1)
        await expect_error(call, grpc.StatusCode.UNAUTHENTICATED, error_code, first)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await raw.stub.GetTopic(
                pb.TopicRequest(topic_name="/event/Low_Ink__e"),
                metadata=raw.meta(**override),  # type: ignore[arg-type]
            )
        assert trailers(info.value)["error-code"] == error_code


async def test_a_15_character_org_id_is_accepted_as_tenantid() -> None:
    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        info = await raw.stub.GetTopic(
            pb.TopicRequest(topic_name="/event/Low_Ink__e"),
            metadata=raw.meta(tenantid=emu.org.org_id[:15]),
        )
        assert info.can_publish and info.tenant_guid == emu.org.org_id


async def test_exact_counts_capped_credit_pending_and_keepalive() -> None:
    async with pubsub_emulator(pubsub=FAST) as emu, raw_client(emu) as raw:
        for i in range(10):
            emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": i})
        ids = [e.replay_id for e in emu.org.channels["/event/Low_Ink__e"].events]
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 3, "EARLIEST"))
        first = await call.read()
        assert [int.from_bytes(e.replay_id, "big") for e in first.events] == ids[:3]
        assert first.pending_num_requested == 0 and first.latest_replay_id == rid(ids[2])
        assert first.rpc_id
        await call.write(fetch("", 150))  # more than 100: the sum is capped at 100
        second = await call.read()
        while not second.events:  # a keepalive may come first on a slow machine
            assert second.pending_num_requested == 0
            second = await call.read()
        assert len(second.events) == 7 and second.pending_num_requested == 93
        keepalive = await call.read()  # nothing left: an empty response within keepalive
        assert not keepalive.events and keepalive.pending_num_requested == 93
        assert keepalive.latest_replay_id == rid(ids[-1])
        await call.write(fetch("/event/Low_Ink__e", 50))
        assert emu.pubsub is not None
        streams = emu.pubsub.streams["/event/Low_Ink__e"]
        await wait_until(lambda: next(iter(streams)).credit == 100)  # the request was read
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 42})
        live = await call.read()
        while not live.events:
            live = await call.read()
        assert live.pending_num_requested == 99  # 100 owed (capped), one sent
        call.cancel()


async def test_stream_closes_when_credit_stays_zero_past_the_limit() -> None:
    async with pubsub_emulator(pubsub=FAST) as emu, raw_client(emu) as raw:
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 1})
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 1, "EARLIEST"))
        assert len((await call.read()).events) == 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        while (response := await call.read()) is not grpc.aio.EOF:
            assert not response.events  # keepalives only, then the end
        assert await call.code() is grpc.StatusCode.OK
        assert loop.time() - started >= FAST.credit_timeout * 0.9


@pytest.mark.parametrize(
    ("first", "error_code"),
    [
        (
            fetch("/event/Low_Ink__e", 5, "CUSTOM"),
            P + "subscription.fetch.replayid.validation.failed",
        ),
        (
            fetch("/event/Low_Ink__e", 5, "CUSTOM", b"\x00" * 10),
            P + "subscription.fetch.replayid.corrupted",
        ),
        (
            fetch("/event/Low_Ink__e", 5, "CUSTOM", rid(10**9)),
            P + "subscription.fetch.replayid.corrupted",
        ),
        (
            fetch("/event/Low_Ink__e", 5, "CUSTOM", b"12907414"),
            P + "subscription.fetch.replayid.corrupted",
        ),
    ],
)
async def test_replay_id_errors(first: object, error_code: str) -> None:
    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 1})
        call = raw.subscribe()
        await call.write(first)
        await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT, error_code)


async def test_retention_72_hours_on_the_movable_clock() -> None:
    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        event = emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 1})
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 1.5})
        emu.org.clock.advance(71 * 3600)
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 5, "CUSTOM", rid(event.replay_id)))
        await call.write(fetch("", 0))
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 2})
        response = await call.read()
        while not response.events:
            response = await call.read()
        call.cancel()
        emu.org.clock.advance(2 * 3600)  # the first two are now 73 h old: a gap after the first
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 5, "CUSTOM", rid(event.replay_id)))
        await expect_error(
            call, grpc.StatusCode.INVALID_ARGUMENT, P + "subscription.fetch.replayid.corrupted"
        )


async def test_topic_mismatch_ends_the_stream() -> None:
    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 5))
        await call.write(fetch("/event/Order_Placed__e", 5))
        await expect_error(
            call, grpc.StatusCode.INVALID_ARGUMENT, P + "subscription.fetch.topic.mismatch"
        )


@pytest.mark.parametrize(
    "topic",
    ["/topic/AccountUpdates", "/u/notifications", "/event/No_Such__e", "/data/NopeChangeEvent"],
)
async def test_topics_pubsub_does_not_serve_are_not_found(topic: str) -> None:
    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        emu.org.create_streaming_channel("/u/notifications")
        call = raw.subscribe()
        await call.write(fetch(topic, 5))
        text = await expect_error(
            call, grpc.StatusCode.NOT_FOUND, emu.org.config.pubsub.topic_not_found_code
        )
        assert topic in text


async def test_faults_unavailable_reset_and_allocation() -> None:
    async with pubsub_emulator(pubsub=FAST) as emu, raw_client(emu) as raw:
        assert emu.pubsub is not None
        emu.pubsub.faults.apply("pubsub_unavailable", {"count": 1})
        call = raw.subscribe()
        first = fetch("/event/Low_Ink__e", 5)
        text = await expect_error(call, grpc.StatusCode.INTERNAL, P + "service.unavailable", first)
        assert text.startswith("The service is unavailable. Try again later. rpcId: ")
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 5))
        assert not (await call.read()).events  # a keepalive: the fault was used up
        assert emu.pubsub.faults.reset_streams() == 1
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call.read()
        assert info.value.code() is grpc.StatusCode.UNAVAILABLE
        assert "error-code" not in trailers(info.value)  # a transport failure, no code
        emu.exhaust_allocation()
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 5))
        text = await expect_error(
            call, grpc.StatusCode.RESOURCE_EXHAUSTED, P + "subscription.limit.exceeded"
        )
        assert text.startswith("You have exceeded the event delivery limit for your org.")


async def test_stall_silences_streams_until_cleared() -> None:
    async with pubsub_emulator(pubsub=FAST) as emu, raw_client(emu) as raw:
        assert emu.pubsub is not None
        call = raw.subscribe()
        await call.write(fetch("/event/Low_Ink__e", 5))
        await call.read()  # a keepalive: the stream is up
        emu.pubsub.faults.stall()
        read = asyncio.ensure_future(call.read())
        done, _ = await asyncio.wait({read}, timeout=FAST.keepalive * 4)
        assert not done  # neither events nor keepalives while stalled
        emu.pubsub.faults.clear()
        assert not (await read).events
        call.cancel()


async def test_publish_appears_on_both_apis_with_one_replay_id() -> None:
    from sfmonitor.pubsub.schemas import Schema

    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        info = await raw.stub.GetTopic(
            pb.TopicRequest(topic_name="/event/Low_Ink__e"), metadata=raw.meta()
        )
        schema_info = await raw.stub.GetSchema(
            pb.SchemaRequest(schema_id=info.schema_id), metadata=raw.meta()
        )
        schema = Schema.from_json(info.schema_id, schema_info.schema_json)
        payload = schema.encode(
            {
                "CreatedDate": 0,
                "CreatedById": "005",
                "Printer_Model__c": "XZ-1",
                "Serial_Number__c": None,
                "Ink_Percentage__c": 0.25,
            }
        )
        response = await raw.stub.Publish(
            pb.PublishRequest(
                topic_name="/event/Low_Ink__e",
                events=[
                    pb.ProducerEvent(id="k1", schema_id=info.schema_id, payload=payload),
                    pb.ProducerEvent(id="k2", schema_id="unknown", payload=payload),
                ],
            ),
            metadata=raw.meta(),
        )
        ok, bad = response.results
        assert ok.correlation_key == "k1" and not ok.HasField("error")
        retained = emu.org.channels["/event/Low_Ink__e"].events[-1]
        assert int.from_bytes(ok.replay_id, "big") == retained.replay_id
        assert b'"Printer_Model__c":"XZ-1"' in retained.body  # the CometD message
        assert bad.correlation_key == "k2" and bad.error.code == pb.PUBLISH


async def test_publish_stream_answers_each_request() -> None:
    from sfmonitor.pubsub.schemas import Schema

    async with pubsub_emulator() as emu, raw_client(emu) as raw:
        topic = "/event/Demo_Event__e"
        info = await raw.stub.GetTopic(pb.TopicRequest(topic_name=topic), metadata=raw.meta())
        schema_json = await raw.stub.GetSchema(
            pb.SchemaRequest(schema_id=info.schema_id), metadata=raw.meta()
        )
        schema = Schema.from_json(info.schema_id, schema_json.schema_json)
        call = raw.stub.PublishStream(metadata=raw.meta())
        replay_ids = []
        for i in range(2):
            payload = schema.encode({"CreatedDate": 0, "CreatedById": "005", "Message__c": f"m{i}"})
            event = pb.ProducerEvent(id=f"k{i}", schema_id=info.schema_id, payload=payload)
            await call.write(pb.PublishRequest(topic_name=topic, events=[event]))
            response = await call.read()
            [result] = response.results
            assert result.correlation_key == f"k{i}" and not result.HasField("error")
            replay_ids.append(int.from_bytes(result.replay_id, "big"))
        await call.done_writing()
        assert replay_ids == [e.replay_id for e in emu.org.channels[topic].events]
