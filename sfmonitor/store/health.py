"""Noticing a damaged capture file early, and saying what to do about it.

A file can be damaged by a disk, a copy cut short, or anything writing into it. SQLite
then answers "database disk image is malformed" (or "file is not a database") at the
first read of a damaged page: perhaps only when a filter or an export reaches it, long
after capture went on writing. So:

- at open, a cheap look at the header: a file shorter than the size its header states
  was cut (``truncated``);
- after open, ``PRAGMA quick_check`` in a background thread (every page's structure;
  about a second per few hundred MB), whose verdict stops further writes;
- every damage error met later is turned into ``StoreDamagedError``, whose message says
  to run ``sfmonitor doctor`` (which checks, and with ``--recover`` saves what is
  readable into a new file, keeping the damaged one).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from .errors import StoreDamagedError
from .paths import sqlite_uri

DAMAGE_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def is_damage(exc: BaseException) -> bool:
    """Is this SQLite error about a damaged file (not a busy or full disk)?"""
    if isinstance(exc, StoreDamagedError):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name:
        return name.startswith(DAMAGE_CODES)
    # no code (an error raised again by Python code): SQLite's own words, exactly; never
    # "malformed JSON", which is about one value, not the file
    text = str(exc)
    return "database disk image is malformed" in text or "file is not a database" in text


def truncated(path: Path) -> str | None:
    """The file is shorter than its header says (a copy or a disk cut it short). Only
    at rest: while a WAL holds frames, a checkpoint may be writing the file (page 1, with
    the new size, comes first) or, after a crash, will finish it."""
    try:
        if Path(f"{path}-wal").stat().st_size > 0:
            return None
    except FileNotFoundError:
        pass
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
            size = handle.seek(0, 2)
    except OSError:
        return None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None  # empty (a new file) or not SQLite at all: SQLite says which
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the header's page count is current
    if valid and pages and size < pages * page_size:
        return f"the file is cut short: {size:,} bytes of {pages * page_size:,}"
    return None


def quick_check(conn: sqlite3.Connection) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong (its first lines), or None."""
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            return str(exc)
        raise
    lines = [str(r[0]) for r in rows]
    if lines == ["ok"]:
        return None
    return "; ".join(lines)[:500]


class BackgroundCheck:
    """``quick_check`` of a file on its own read-only connection, in a thread; the
    verdict is ``damage`` once ``done`` is set. ``stop()`` interrupts it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.damage: str | None = None
        self.done = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sfmonitor-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._lock:
                if self._stopped:
                    return
                self._conn = sqlite3.connect(
                    sqlite_uri(self.path, read_only=True), uri=True, check_same_thread=False
                )
            self.damage = quick_check(self._conn)
        except sqlite3.Error as exc:  # interrupted, or the file went away: no verdict
            if is_damage(exc):
                self.damage = str(exc)
        finally:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            self.done.set()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._conn is not None:
                self._conn.interrupt()
        self._thread.join()
