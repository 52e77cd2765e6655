"""Splitting a reply that cannot be parsed whole into its messages (streaming/batches.py)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfmonitor.streaming import MalformedResponseError
from sfmonitor.streaming.batches import parse_batch, split_array

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.lists(json_values, max_size=6))
def test_split_gives_back_each_element(items: list[object]) -> None:
    body = b"[" + b", ".join(orjson.dumps(i) for i in items) + b"]"
    parts = split_array(body)
    assert parts is not None
    assert [orjson.loads(p) for p in parts] == items


@pytest.mark.parametrize(
    "body",
    [b'[{"a":1},{"b":', b'{"a":1}', b'[{"a":1}] trailing', b'[{"a":1}]]', b"", b"]["],
)
def test_only_a_whole_array_is_split(body: bytes) -> None:
    assert split_array(body) is None


def test_an_unreadable_element_is_set_aside_with_its_channel() -> None:
    deep = b'{"data":{"x":' + b"[" * 5000 + b"]" * 5000 + b'},"channel":"/topic/Foo"}'
    body = b'[{"channel":"/topic/Foo","n":"[{\\"]"},' + deep + b',{"channel":"/meta/connect"}]'
    messages, rejected = parse_batch(body)
    assert messages == [{"channel": "/topic/Foo", "n": '[{"]'}, {"channel": "/meta/connect"}]
    assert [(r.channel, r.reason) for r in rejected] == [("/topic/Foo", "nesting too deep to read")]


def test_a_reply_cut_short_stays_an_error() -> None:
    with pytest.raises(MalformedResponseError, match="not JSON"):
        parse_batch(b'[{"channel":"/topic/Foo","data":{"event":{"replayId":1}}},{"chan')
