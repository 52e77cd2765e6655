"""``sfmonitor.discovery`` sits beside the clients: no Qt, no store, no keyring, no emulator;
and it imports cleanly before or after the packages it builds on."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("first", ["sfmonitor.discovery", "sfmonitor.auth", "sfmonitor.streaming"])
def test_discovery_loads_no_qt_store_keyring_or_emulator(first: str) -> None:
    code = (
        "import sys\n"
        f"import {first}\n"
        "import sfmonitor.discovery\n"
        "assert sfmonitor.discovery.discover\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'qasync', 'shiboken6', 'keyring') or "
        "m.startswith(('sfmonitor.store', 'sfmonitor.emulator', 'sfmonitor.ui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"loaded: {out.stdout}"
