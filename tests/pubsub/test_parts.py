"""The small parts: replay ids as bytes, bitmap decoding (Salesforce's format and the
emulator's encoding of it), error classification, the generated modules and their pins."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.emulator.avro_events import AvroCatalog
from sfmonitor.emulator.avro_schemas import bitmap
from sfmonitor.emulator.channels import ChannelKind
from sfmonitor.pubsub import (
    Credentials,
    Reaction,
    ReplayFrom,
    encode_replay,
    field_names,
    reaction_of,
    replay_sort_key,
    replay_value,
    show_replay,
)
from sfmonitor.pubsub.schemas import Schema

ROOT = Path(__file__).resolve().parents[2]
P = "sfdc.platform.eventbus.grpc."


@pytest.mark.parametrize(
    ("raw", "value", "shown"),
    [
        (bytes(8), 0, "0"),
        (b"\x00\x00\x00\x00\x00\x10\xdb\x4d", 1104717, "1104717"),
        (b"\xff" * 8, 2**64 - 1, str(2**64 - 1)),
        # a 10-byte id as seen in the field: kept and shown whole, never truncated
        (b"\x00\x00\x00\x00\x00\x10\xdb\x4d\x00\x00", None, "0x000000000010DB4D0000"),
    ],
)
def test_replay_ids_are_bytes_with_a_value_only_at_8_bytes(
    raw: bytes, value: int | None, shown: str
) -> None:
    assert replay_value(raw) == value
    assert show_replay(raw) == shown
    if value is not None:
        assert encode_replay(value) == raw
        assert ReplayFrom.custom(value).replay_id == raw
    assert ReplayFrom.custom(raw).replay_id == raw


def test_replay_sort_key_orders_by_value_then_odd_lengths() -> None:
    ids = [encode_replay(300), b"\x01\x02", encode_replay(2), encode_replay(256)]
    assert sorted(ids, key=replay_sort_key) == [
        encode_replay(2),
        encode_replay(256),
        encode_replay(300),
        b"\x01\x02",
    ]
    with pytest.raises(ValueError):
        encode_replay(-1)
    with pytest.raises(ValueError):
        ReplayFrom.custom(b"")


FIELDS = [{"name": f"F{i}", "type": ["null", "string"]} for i in range(32)]
FIELDS[4] = {
    "name": "BillingAddress",
    "type": [
        "null",
        {
            "type": "record",
            "name": "Address",
            "fields": [{"name": n, "type": ["null", "string"]} for n in "ABCDEFGH"],
        },
    ],
}


@pytest.mark.parametrize(
    ("bitmaps", "names"),
    [
        ([], []),
        (["0x1"], ["F0"]),
        (["0xA"], ["F1", "F3"]),
        (["0xa"], ["F1", "F3"]),  # lower case is read too
        # the example of Salesforce's guide: bits 5, 6, 7, 10, 24, 26, 29, 30, a compound child
        (
            ["0x650004E0", "4-0x10"],
            ["F5", "F6", "F7", "F10", "F24", "F26", "F29", "F30", "BillingAddress.E"],
        ),
        (["0x00", "4-0x06"], ["BillingAddress.B", "BillingAddress.C"]),
        (["Name", "Phone"], ["Name", "Phone"]),  # already names (CometD style)
    ],
)
def test_bitmaps_decode_to_field_names(bitmaps: list[str], names: list[str]) -> None:
    assert field_names(FIELDS, bitmaps) == names


def test_a_bit_beyond_the_schema_is_an_error_not_a_wrong_name() -> None:
    with pytest.raises(ValueError, match="beyond"):
        field_names(FIELDS[:3], ["0x10"])


@pytest.mark.parametrize(
    ("positions", "text"),
    [([], "0x00"), ([0], "0x01"), ([1, 3], "0x0A"), ([5, 6, 7, 10, 24, 26, 29, 30], "0x650004E0")],
)
def test_emulator_writes_upper_case_hex_in_whole_bytes(positions: list[int], text: str) -> None:
    assert bitmap(positions) == text


def test_emulator_bitmaps_round_trip_through_our_decoder_with_compounds() -> None:
    catalog = AvroCatalog()
    layout = catalog.layout_for(ChannelKind.CHANGE_EVENT, "AccountChangeEvent")
    names = ["Phone", "BillingCity", "ShippingAddress.Country", "BillingStreet", "Name"]
    encoded = catalog.bitmaps(layout, names)
    assert encoded[0].startswith("0x") and all("-0x" in e for e in encoded[1:])
    assert all(e == e.upper().replace("0X", "0x") for e in encoded)
    schema = Schema.from_json(layout.schema_id, catalog.schema_json(layout.schema_id) or "")
    assert sorted(field_names(schema.fields, encoded)) == sorted(
        ["Name", "Phone", "BillingAddress.City", "BillingAddress.Street", "ShippingAddress.Country"]
    )


@pytest.mark.parametrize(
    ("code", "reaction"),
    [
        (P + "service.auth.error", Reaction.REFRESH_AUTH),
        (P + "service.auth.refresh.invalid", Reaction.REFRESH_AUTH),
        (P + "subscription.fetch.replayid.corrupted", Reaction.GAP),
        (P + "subscription.fetch.replayid.validation.failed", Reaction.GAP),
        (P + "topic.not.found", Reaction.STOP),
        (P + "topic.meta.permission", Reaction.STOP),
        (P + "subscription.limit.exceeded", Reaction.STOP),
        (P + "service.auth.headers.invalid", Reaction.STOP),
        (P + "service.unavailable", Reaction.RETRY),
        (P + "concurrent.client.limit.exceeded", Reaction.RETRY),
        ("", Reaction.RETRY),  # RST_STREAM and other transport failures carry no code
    ],
)
def test_each_error_code_has_a_reaction(code: str, reaction: Reaction) -> None:
    assert reaction_of(code) is reaction


def test_credentials_never_show_the_token() -> None:
    creds = Credentials("00Dxx!secret-token-value", "https://x.my.salesforce.com", "00Dxx")
    assert "secret-token-value" not in repr(creds) and "secret-token-value" not in str(creds)


def test_generated_modules_are_current() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "sfmonitor/pubsub/regenerate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr


def test_runtime_pins_match_the_generated_code() -> None:
    proto = ROOT / "sfmonitor/pubsub/proto"
    grpc_version = re.search(
        r"GRPC_GENERATED_VERSION = '([\d.]+)'", (proto / "pubsub_api_pb2_grpc.py").read_text()
    )
    gencode = re.search(
        r"Protobuf Python Version: ([\d.]+)", (proto / "pubsub_api_pb2.py").read_text()
    )
    assert grpc_version and gencode
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"grpcio>={grpc_version.group(1)},' in pyproject
    assert f'"grpcio-tools=={grpc_version.group(1)}"' in pyproject
    assert f'"protobuf>={gencode.group(1)},' in pyproject


def test_the_proto_is_wire_identical_to_salesforces_contract() -> None:
    """Names, numbers and types of every field, from the compiled descriptors."""
    from sfmonitor.pubsub.proto import pubsub_api_pb2 as pb

    def shape(message: object) -> list[tuple[str, int, int, int]]:
        d = message.DESCRIPTOR  # type: ignore[attr-defined]
        return [(f.name, f.number, f.type, 3 if f.is_repeated else 1) for f in d.fields]

    string, bytes_, enum, msg, int32, int64, boolean = 9, 12, 14, 11, 5, 3, 8
    assert pb.DESCRIPTOR.package == "eventbus.v1"
    assert [m.name for m in pb.DESCRIPTOR.services_by_name["PubSub"].methods] == [
        "Subscribe",
        "GetSchema",
        "GetTopic",
        "Publish",
        "PublishStream",
        "ManagedSubscribe",
    ]
    rep = 3
    opt = 1
    assert shape(pb.FetchRequest) == [
        ("topic_name", 1, string, opt),
        ("replay_preset", 2, enum, opt),
        ("replay_id", 3, bytes_, opt),
        ("num_requested", 4, int32, opt),
        ("auth_refresh", 5, string, opt),
    ]
    assert shape(pb.FetchResponse) == [
        ("events", 1, msg, rep),
        ("latest_replay_id", 2, bytes_, opt),
        ("rpc_id", 3, string, opt),
        ("pending_num_requested", 4, int32, opt),
    ]
    assert shape(pb.ConsumerEvent) == [("event", 1, msg, opt), ("replay_id", 2, bytes_, opt)]
    assert shape(pb.ProducerEvent) == [
        ("id", 1, string, opt),
        ("schema_id", 2, string, opt),
        ("payload", 3, bytes_, opt),
        ("headers", 4, msg, rep),
    ]
    assert shape(pb.TopicInfo) == [
        ("topic_name", 1, string, opt),
        ("tenant_guid", 2, string, opt),
        ("can_publish", 3, boolean, opt),
        ("can_subscribe", 4, boolean, opt),
        ("schema_id", 5, string, opt),
        ("rpc_id", 6, string, opt),
    ]
    assert shape(pb.PublishResult) == [
        ("replay_id", 1, bytes_, opt),
        ("error", 2, msg, opt),
        ("correlation_key", 3, string, opt),
    ]
    assert shape(pb.CommitReplayResponse)[3] == ("process_time", 4, int64, opt)
    assert {v.name: v.number for v in pb.DESCRIPTOR.enum_types_by_name["ReplayPreset"].values} == {
        "LATEST": 0,
        "EARLIEST": 1,
        "CUSTOM": 2,
    }


def test_fetch_response_assembled_by_the_emulator_parses_as_the_proto() -> None:
    from sfmonitor.emulator.pubsub_wire import fetch_response
    from sfmonitor.pubsub.proto import pubsub_api_pb2 as pb

    events = [
        pb.ConsumerEvent(
            event=pb.ProducerEvent(id="u", schema_id="s", payload=b"x" * n),
            replay_id=bytes([n % 256] * 8),
        ).SerializeToString()
        for n in (1, 200, 70000)
    ]
    parsed = pb.FetchResponse.FromString(fetch_response(events, b"\x00" * 7 + b"\x05", "r1", 300))
    assert [len(e.event.payload) for e in parsed.events] == [1, 200, 70000]
    assert parsed.latest_replay_id == b"\x00" * 7 + b"\x05"
    assert parsed.rpc_id == "r1" and parsed.pending_num_requested == 300
