"""After a backlog, ``sfmonitor capture`` gives its memory back: a flood of 150,000 events
through the real process, its RSS idle before and once the flood has drained. (The
figures for 1,000,000 events: ``python benchmarks/backlog_memory.py``.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers.backlog import Backlog

EVENTS = 150_000


def test_the_capture_returns_near_its_idle_size_after_a_backlog(tmp_path: Path) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("measures memory with Linux's /proc")
    backlog = Backlog(tmp_path / "data")
    try:
        backlog.start_capture()
        idle = backlog.rss()
        backlog.flood(EVENTS, 512)
        peak = idle
        deadline = time.monotonic() + 300
        while backlog.stored() < EVENTS:
            assert backlog.alive() and time.monotonic() < deadline, backlog.log[-2000:]
            peak = max(peak, backlog.rss())
            time.sleep(0.2)
        # the writer gives memory back once no event came for a second: wait for it
        limit = idle * 2.5
        deadline = time.monotonic() + 30
        while (now := backlog.rss()) > limit and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"idle {idle:.0f} MB, peak {peak:.0f} MB, after the backlog {now:.0f} MB")
        assert now <= limit, f"still {now:.0f} MB after the backlog (idle: {idle:.0f} MB)"
    finally:
        backlog.stop()
