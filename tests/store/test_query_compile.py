"""A refresh of the table parses and plans its filter once, however many parts it runs as
(the window, and a text filter's count in two halves of the id range)."""

from __future__ import annotations

import pytest

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile
from sfmonitor.store import queries as queries_module
from tests.helpers.events import event, push_topic


def test_count_and_fetch_parse_and_plan_the_filter_once(
    store: CaptureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i + 1, f"Acme {i}")) for i in range(6000)])
    parsed: list[str] = []
    progress: list[int] = []
    real_parse, real_progress = queries_module.parse, store._progress

    def counting_parse(text: str) -> object:
        parsed.append(text)
        return real_parse(text)

    def counting_progress() -> tuple[int, int]:
        progress.append(1)
        return real_progress()

    monkeypatch.setattr(queries_module, "parse", counting_parse)
    monkeypatch.setattr(store, "_progress", counting_progress)
    query = EventQuery(profile.id, text='"Acme 12"')
    count, rows = store.count_and_fetch(query, 100)
    assert count == 111 and len(rows) == 100  # 12, 120-129, 1200-1299
    assert parsed == ['"Acme 12"'] and len(progress) == 1
