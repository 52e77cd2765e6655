"""The app left running under demo traffic for minutes, as a monitor is: it must stay alive
and keep storing, then stop cleanly on SIGTERM.

Short scripted tests missed a crash after two minutes (a PySide6 that leaked references
to None aborted the interpreter) and a capture that stopped silently. ``pytest -m long``
runs this (``.ci/run`` does, for the app from source and, in test_frozen.py, the packaged
app); SFMONITOR_LONG_RUN_SECONDS shortens it for a quick look.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.long_run import RUN_SECONDS, app_env, keeps_capturing


@pytest.mark.long
@pytest.mark.timeout(RUN_SECONDS + 180)
def test_the_app_runs_for_minutes_and_keeps_storing(
    display: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    command = [sys.executable, "-m", "sfmonitor", "--demo", "--data-dir", str(folder)]
    keeps_capturing(command, app_env(display), folder, tmp_path / "app.log")
