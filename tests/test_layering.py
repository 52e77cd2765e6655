"""The core packages never load Qt: only ui/ and app.py may (see the design's layer rules)."""

from __future__ import annotations

import subprocess
import sys


def test_core_packages_load_no_qt() -> None:
    code = (
        "import sys\n"
        "import sfmonitor, sfmonitor.streaming, sfmonitor.store, sfmonitor.emulator\n"
        "import sfmonitor.emulator.__main__\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qasync', "
        "'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"Qt modules loaded: {out.stdout}"
