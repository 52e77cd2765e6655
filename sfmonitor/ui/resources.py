"""Finding ``resources/`` (icons) from a source checkout and from the packaged app alike."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


@cache
def resources_dir() -> Path | None:
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in the packaged app
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    return next((c for c in candidates if (c / "icons").is_dir()), None)


def icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg``; an empty icon if the resources are missing."""
    folder = resources_dir()
    if folder is None:
        return QIcon()
    path = folder / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def app_icon() -> QIcon:
    folder = resources_dir()
    return QIcon(str(folder / "sfmonitor.svg")) if folder is not None else QIcon()
