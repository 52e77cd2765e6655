"""Odd events from the wire: lone surrogates, deep nesting, huge payloads, odd unicode.
Each is stored, found, exported and imported back without loss or crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfmonitor.store import (
    CaptureStore,
    Environment,
    EventQuery,
    Profile,
    export_events,
    import_capture,
)
from sfmonitor.streaming.transport import parse_json
from tests.helpers.events import event

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def generic(rid: int, payload: Any) -> dict[str, Any]:
    return {"channel": "/u/odd", "data": {"event": {"replayId": rid}, "payload": payload}}


def test_a_reply_with_an_escaped_lone_surrogate_is_still_read() -> None:
    body = b'[{"channel":"/u/odd","data":{"event":{"replayId":1},"payload":"bad \\ud800 text"}}]'
    (message,) = parse_json(body)
    assert message["data"]["payload"] == "bad \ud800 text"


def test_odd_events_round_trip(tmp_path: Path) -> None:
    deep: Any = "bottom"
    for _ in range(200):
        deep = {"level": deep}
    payloads = [
        "lone \ud800 surrogate",
        "\u202eright-to-left\u0000nul",
        deep,
        "x" * (2 << 20),
        "😀" * 1000,
    ]
    with CaptureStore.open(tmp_path / "d") as store:
        profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        store.ingest(profile.id, [event(generic(i + 1, p)) for i, p in enumerate(payloads)])
        rows = store.fetch(EventQuery(profile.id), with_raw=True, limit=10)
        assert len(rows) == len(payloads)
        assert store.count(EventQuery(profile.id, text="surrogate")) == 1
        assert store.count(EventQuery(profile.id, text="😀😀")) == 1
        first = tmp_path / "a.ndjson"
        export_events(store, EventQuery(profile.id), first)
        imported = import_capture(store, first)
        second = tmp_path / "b.ndjson"
        export_events(store, EventQuery(imported.profile.id), second)
        assert first.read_bytes() == second.read_bytes()
        back = [
            parse_json(line.encode())["event"]["data"]["payload"]
            for line in first.read_text().splitlines()
        ]
        assert back == payloads


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=JSON)
def test_any_json_payload_is_stored_and_exported_exactly(
    tmp_path_factory: Any, payload: Any
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    with CaptureStore.open(folder / "d") as store:
        profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        store.ingest(profile.id, [event(generic(1, payload))])
        target = folder / "x.json"
        export_events(store, EventQuery(profile.id), target)
        (record,) = parse_json(target.read_bytes())
        assert record["event"]["data"]["payload"] == payload
