"""``sfmonitor.auth`` is pure login mechanics: no Qt, no store, no keyring; and it imports
cleanly whichever of it and the streaming client (which it builds on) comes first."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "first", ["sfmonitor.auth", "sfmonitor.streaming", "sfmonitor.auth.sfcli", "sfmonitor.emulator"]
)
def test_auth_loads_no_qt_store_or_keyring(first: str) -> None:
    code = (
        "import sys\n"
        f"import {first}\n"
        "import sfmonitor.auth, sfmonitor.streaming\n"
        "assert sfmonitor.streaming.TokenSourceSalesforceStreaming\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'qasync', 'shiboken6', 'keyring') or m.startswith('sfmonitor.store'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"loaded: {out.stdout}"
