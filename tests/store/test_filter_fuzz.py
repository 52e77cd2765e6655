"""Hostile and random filter text: only FilterError or a correct answer, never SQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfmonitor.store import CaptureStore, Environment, EventQuery, FilterError, Profile
from tests.helpers.events import event, push_topic

NAMES = ["Acme 100%", "O'Brien_Co", 'Say "hi"; DROP', "back\\slash", "a%b_c", "plain"]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CaptureStore, int, list[str]]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with CaptureStore.open(folder) as s:
        profile = s.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
        assert profile.id is not None
        s.ingest(profile.id, [event(push_topic(i + 1, name)) for i, name in enumerate(NAMES)])
        rows = s.fetch(EventQuery(profile.id), with_raw=True)
        yield s, profile.id, [f"{r.summary}\n{r.raw}" for r in rows]


@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(list("aA%_\\'\";-=<>!~ .[]0123()éß\u0000\ud800xyz")), max_size=40
    )
)
def test_any_text_gives_filter_error_or_an_answer(
    store: tuple[CaptureStore, int, list[str]], text: str
) -> None:
    s, pid, _ = store
    try:
        s.count(EventQuery(pid, text=text))
        s.fetch(EventQuery(pid, text=text), limit=5)
    except FilterError:
        pass
    assert s.count(EventQuery(pid)) == len(NAMES)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("acmeACMOBrin'%_\\;\"0-9 ")), min_size=1, max_size=6))
def test_a_word_matches_exactly_where_it_occurs(
    store: tuple[CaptureStore, int, list[str]], word: str
) -> None:
    s, pid, haystacks = store
    if any(c in word for c in ' "=<>!~'):
        return  # not a single free-text word
    expected = sum(word.lower() in h.lower() for h in haystacks)
    assert s.count(EventQuery(pid, text=word)) == expected
