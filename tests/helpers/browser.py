"""A stand-in for the user's web browser, named by ``$BROWSER`` (Python's ``webbrowser``
runs it with the address): it opens the address as a browser does, following the
emulator's redirect to sfmonitor's loopback receiver, and notes what it saw (the address
it was given and the one it ended on, which holds the authorization code)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

SCRIPT = """#!{python}
import sys, urllib.request
with open({marker!r}, "a") as seen:
    seen.write(sys.argv[1] + "\\n")
    with urllib.request.urlopen(sys.argv[1]) as page:  # follows the redirect
        page.read()
        seen.write(page.geturl() + "\\n")
"""


@dataclass
class StandInBrowser:
    path: Path  # the executable to name in $BROWSER
    marker: Path  # what it saw, a line per address

    def seen(self) -> list[str]:
        return self.marker.read_text().splitlines() if self.marker.exists() else []


def stand_in_browser(folder: Path) -> StandInBrowser:
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "browser-saw.txt"
    path = folder / "browser"
    path.write_text(SCRIPT.format(python=sys.executable, marker=str(marker)))
    path.chmod(0o755)
    return StandInBrowser(path, marker)
