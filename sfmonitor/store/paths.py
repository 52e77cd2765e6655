"""Where sfmonitor keeps its data: ``--data-dir``, else ``SFMONITOR_DATA_DIR``, else the
per-user data folder of the platform (platformdirs)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import urllib.parse
from pathlib import Path

import platformdirs

from .errors import DataDirError

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
    """Create the folder if needed, readable by its owner only (it holds captured
    events); an existing folder of ours is tightened to that. An existing folder that
    cannot be written is returned as it is (read-only commands work there); anything
    else that makes it unusable is a ``DataDirError`` naming the folder."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise DataDirError(f"the data folder {path} is a file, not a folder") from None
    except NotADirectoryError:
        parent = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise DataDirError(
            f"the data folder {path} cannot be created: {parent} is a file, not a folder"
        ) from None
    except OSError as exc:
        if not path.is_dir():
            raise DataDirError(
                f"the data folder {path} cannot be created ({exc.strerror or exc})"
            ) from None
    if not path.is_dir():
        raise DataDirError(f"the data folder {path} is not a folder")
    with contextlib.suppress(OSError):
        info = path.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            path.chmod(0o700)
    return path


def sqlite_uri(path: Path, read_only: bool = False) -> str:
    """The URI SQLite opens ``path`` by (any character in the path is fine). Read-only
    on a read-only file system, the file is opened immutable: SQLite cannot create the
    shared-memory file a WAL database otherwise needs (anything a crash left in the WAL
    is not seen then; nothing could write it there anyway)."""
    uri = "file:" + urllib.parse.quote(str(path.absolute()))
    if not read_only:
        return uri
    try:
        on_read_only_fs = bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: Windows has no statvfs
        on_read_only_fs = False
    return uri + ("?mode=ro&immutable=1" if on_read_only_fs else "?mode=ro")


def read_only_reason(exc: OSError) -> str | None:
    """Why a write into the data folder failed, if it is the folder being read-only."""
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return exc.strerror or str(exc)
    return None
