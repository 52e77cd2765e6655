"""Where sfmonitor keeps its data: ``--data-dir``, else ``SFMONITOR_DATA_DIR``, else the
per-user data folder of the platform (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "SFMONITOR_DATA_DIR"
DB_NAME = "capture.db"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder to use (not created here)."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("sfmonitor", appauthor=False))


def ensure_private_dir(path: Path) -> Path:
    """Create the folder if needed, readable by its owner only (it holds captured events)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
