"""Pub/Sub replay ids in the store: opaque bytes kept as sent, 8-byte ids also as their
big-endian value (sorting and filters), other lengths kept unique by their bytes; keepalive
positions; the Avro schemas; exports and imports that keep all of it; transports of
profiles and channels, and a file of the previous schema brought forward."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from sfmonitor.store import (
    CaptureStore,
    Environment,
    EventQuery,
    Profile,
    Subscription,
    export_events,
    import_capture,
)
from sfmonitor.store.export import RECORD_SQL, event_record_bytes
from sfmonitor.store.records import PubSubWire
from sfmonitor.store.schema import migrate
from tests.helpers.events import T0, change_event, event, platform_event

EIGHT = [(5).to_bytes(8, "big"), (300).to_bytes(8, "big"), (2**40 + 7).to_bytes(8, "big")]
ODD = bytes.fromhex("000000000000002ba72b0000")  # 12 bytes: no number to show


def pubsub_events(store: CaptureStore, profile_id: int) -> list[bytes]:
    """Events of one topic arriving with replay ids in an order their values are not."""
    sent = [EIGHT[1], EIGHT[0], ODD, EIGHT[2]]
    events = [
        (event(platform_event(0, f"uuid-{i}", amount=i, ms=T0 + i)), raw)
        for i, raw in enumerate(sent)
    ]
    store.ingest_records(
        [
            store_record(profile_id, ev, PubSubWire(raw, "schema-1", b"\x02avro" + raw))
            for ev, raw in events
        ]
    )
    return sent


def store_record(profile_id: int, ev: object, wire: PubSubWire) -> object:
    from sfmonitor.store.records import event_record

    return event_record(profile_id, ev, wire)  # type: ignore[arg-type]


def replay_bytes(store: CaptureStore) -> dict[int, bytes | None]:
    with sqlite3.connect(store.path) as conn:
        return dict(conn.execute("SELECT id, replay_bytes FROM events").fetchall())


def test_replay_bytes_round_trip_and_sort_by_their_value(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    sent = pubsub_events(store, profile.id)
    rows = store.fetch(EventQuery(profile.id), sort="replay")
    raw = replay_bytes(store)
    assert [raw[r.id] for r in rows if r.replay_id is not None] == EIGHT  # by value
    assert [r.replay_id for r in rows if r.replay_id is not None] == [5, 300, 2**40 + 7]
    (odd,) = [r for r in rows if r.replay_id is None]
    assert raw[odd.id] == ODD  # kept whole, never cut to a number
    assert sorted(raw.values(), key=lambda b: b or b"") == sorted(sent)
    state = store.replay_states(profile.id)["/event/Order_Placed__e"]
    assert state.replay_bytes == EIGHT[2] and state.replay_id == 2**40 + 7
    assert state.transport == "pubsub"


def test_a_redelivered_pubsub_event_is_stored_once_whatever_its_id_length(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    pubsub_events(store, profile.id)
    # the odd-length id under another EventUuid: only its bytes say it is the same event
    again = [
        store_record(
            profile.id,
            event(platform_event(0, "other" if raw == ODD else f"uuid-{i}", amount=i, ms=T0 + i)),
            PubSubWire(raw, "schema-1", b"x"),
        )
        for i, raw in enumerate([EIGHT[1], EIGHT[0], ODD, EIGHT[2]])
    ]
    result = store.ingest_records(again)  # type: ignore[arg-type]
    assert result.stored == 0 and result.duplicates == 4
    assert store.count(EventQuery(profile.id)) == 4


def test_a_keepalive_position_is_written_after_the_events_of_its_batch(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    latest = (9000).to_bytes(8, "big")
    record = store_record(
        profile.id, event(platform_event(0, "u")), PubSubWire(EIGHT[0], "s", b"a")
    )
    store.ingest_records([record], [(profile.id, "/event/Order_Placed__e", latest)])  # type: ignore[list-item]
    state = store.replay_states(profile.id)["/event/Order_Placed__e"]
    assert (state.replay_bytes, state.replay_id, state.transport) == (latest, 9000, "pubsub")
    store.ingest_records([], [(profile.id, "/data/X", ODD)])
    odd = store.replay_states(profile.id)["/data/X"]
    assert (odd.replay_bytes, odd.replay_id) == (ODD, None)


def test_schemas_are_kept_once_by_id(store: CaptureStore) -> None:
    store.save_schema("abc", '{"type": "record"}')
    store.save_schema("abc", '{"type": "other"}')  # an id names one schema for good
    assert store.load_schema("abc") == '{"type": "record"}'
    assert store.load_schema("missing") is None
    assert store.avro_schemas() == {"abc": '{"type": "record"}'}


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_exports_and_imports_keep_the_bytes(
    store: CaptureStore, profile: Profile, tmp_path: Path, fmt: str
) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(change_event(1))])  # a CometD event beside them
    pubsub_events(store, profile.id)
    first = tmp_path / f"first.{fmt}"
    assert export_events(store, EventQuery(profile.id), first).count == 5
    text = first.read_bytes()
    records = orjson.loads(text) if fmt == "json" else [orjson.loads(x) for x in text.splitlines()]
    assert "pubsub" not in records[0]  # CometD records are as before
    assert records[1]["pubsub"] == {
        "replayId": EIGHT[1].hex(),
        "schemaId": "schema-1",
        "avro": (b"\x02avro" + EIGHT[1]).hex(),
    }
    assert records[1]["replayId"] == 300
    assert records[3]["replayId"] is None and records[3]["pubsub"]["replayId"] == ODD.hex()
    imported = import_capture(store, first)
    second = tmp_path / f"second.{fmt}"
    export_events(store, EventQuery(imported.profile.id), second)
    assert first.read_bytes() == second.read_bytes()


def test_sql_and_python_records_agree_for_pubsub_events(
    store: CaptureStore, profile: Profile
) -> None:
    assert profile.id is not None
    ev = event(platform_event(0, "u1"))
    wire = PubSubWire(ODD, 'schema "quoted"', b"\x00\xff")
    store.ingest_records([store_record(profile.id, ev, wire)])  # type: ignore[list-item]
    (in_sql,) = store.iter_values(EventQuery(profile.id), RECORD_SQL)
    assert in_sql.encode() == event_record_bytes(ev, wire)


@pytest.mark.parametrize(
    ("pubsub", "message"),
    [
        ('{"replayId": "0G", "schemaId": "s", "avro": null}', "lower-case hex"),
        ('{"replayId": "", "schemaId": "s", "avro": null}', "cannot be empty"),
        ('{"replayId": "0000000000000008", "schemaId": 1, "avro": null}', "schemaId"),
        ('{"replayId": "0000000000000009", "schemaId": "s", "avro": null}', "is not the value"),
        ("[]", "must be a JSON object"),
    ],
)
def test_an_import_refuses_odd_pubsub_parts(
    store: CaptureStore, tmp_path: Path, pubsub: str, message: str
) -> None:
    record = (
        '{"channel":"/event/A__e","replayId":8,"kind":"platform_event",'
        '"createdDate":"2025-11-28T03:20:00.000Z","receivedAt":"2025-11-28T03:20:00.000Z",'
        f'"event":{{}},"pubsub":{pubsub}}}'
    )
    source = tmp_path / "bad.ndjson"
    source.write_text(record + "\n")
    with pytest.raises(Exception, match=message):
        import_capture(store, source)
    assert store.count(EventQuery()) == 0


def test_transports_of_profiles_and_channels(store: CaptureStore) -> None:
    profile = store.save_profile(
        Profile(
            "P",
            Environment.CUSTOM,
            "https://x.my.salesforce.com",
            transport="pubsub",
            pubsub_endpoint="api.pubsub.salesforce.com:7443",
        )
    )
    assert profile.id is not None
    (again,) = store.profiles()
    assert again.transport == "pubsub" and again.pubsub_endpoint.endswith(":7443")
    store.set_subscription(profile.id, Subscription("/event/A__e", transport="pubsub"))
    store.set_subscription(profile.id, Subscription("/topic/T", transport="cometd"))
    store.set_subscription(profile.id, Subscription("/data/ChangeEvents"))
    subs = {s.channel: s for s in store.subscriptions(profile.id)}
    assert [subs[c].transport for c in ("/event/A__e", "/topic/T", "/data/ChangeEvents")] == [
        "pubsub",
        "cometd",
        "",
    ]
    assert subs["/data/ChangeEvents"].transport_in(again) == "pubsub"
    with pytest.raises(ValueError, match="PushTopic and generic channels"):
        store.set_subscription(profile.id, Subscription("/topic/T", transport="pubsub"))
    with pytest.raises(ValueError, match="transport must be cometd or pubsub"):
        store.set_subscription(profile.id, Subscription("/event/A__e", transport="grpc"))
    with pytest.raises(ValueError, match="plaintext"):
        store.save_profile(Profile("Q", Environment.CUSTOM, "x", pubsub_endpoint="http://h:1"))
    with pytest.raises(ValueError, match="host:port"):
        store.save_profile(Profile("Q", Environment.CUSTOM, "x", pubsub_endpoint="h"))


def test_a_file_of_the_previous_schema_is_brought_forward(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    path = folder / "capture.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, None, target=4)
    conn.execute(
        "INSERT INTO profiles (id, name, environment, login_url, auth_kind, created_at) "
        "VALUES (1, 'Old', 'custom', 'https://x', 'password', 0)"
    )
    conn.execute("INSERT INTO subscriptions (profile_id, channel) VALUES (1, '/event/A__e')")
    conn.execute(
        "INSERT INTO replay_state (profile_id, channel, replay_id, updated_at) "
        "VALUES (1, '/event/A__e', 42, 0)"
    )
    conn.close()
    with CaptureStore.open(folder) as store:
        (profile,) = store.profiles()
        assert (profile.transport, profile.pubsub_endpoint) == ("cometd", "")
        assert store.subscriptions(1)[0].transport == ""
        state = store.replay_states(1)["/event/A__e"]
        assert (state.replay_id, state.transport, state.replay_bytes) == (42, "cometd", None)
    assert (folder / "capture.db.v4.bak").exists()


def test_a_recovery_that_lost_events_resumes_pubsub_before_the_loss(
    store: CaptureStore, profile: Profile
) -> None:
    from sfmonitor.store.doctor import Recovery, _resume_before_losses

    assert profile.id is not None
    pubsub_events(store, profile.id)  # rows 1-4; the position is row 4's id
    conn = sqlite3.connect(store.path, isolation_level=None)
    try:
        _resume_before_losses(conn, Recovery({}, [("events", 2, 3)]))  # rows after 2 lost
    finally:
        conn.close()
    state = store.replay_states(profile.id)["/event/Order_Placed__e"]
    assert state.replay_bytes == EIGHT[0]  # row 2's: what was lost is fetched again
