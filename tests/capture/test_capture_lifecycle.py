"""A capture with Pub/Sub channels closes its streams and gRPC channel itself: started and
stopped ten times on asyncio and qasync, then a clean interpreter exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_a_pubsub_capture_started_and_stopped_ten_times_then_a_clean_exit() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-X", "dev", "-m", "tests.capture.capture_cycles", "10"],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "cycles ok: 10" in out.stdout
    assert "Fatal Python error" not in out.stderr
    assert "was never awaited" not in out.stderr and "Unclosed" not in out.stderr
