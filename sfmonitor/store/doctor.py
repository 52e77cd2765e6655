"""``sfmonitor doctor``: check a capture file, and save what is readable from a damaged
one into a new file.

The check is SQLite's ``integrity_check`` (every page, every index). Recovery reads every
table row by row in id order, stepping over what cannot be read, into a new file of the
current schema (its own id kept, so the profiles' keyring entries still match); then the
damaged file is renamed ``capture.db.damaged-<time>`` (kept, never deleted) and the new
one takes its name. Where events could not be read, each channel resumes from before the
first loss, so that what the server still retains is fetched again (and what was saved
is not stored twice).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import search
from .health import is_damage
from .lock import FolderLock
from .paths import DB_NAME, sqlite_uri
from .schema import migrate, version_of, write_transaction

CHUNK = 2000
TABLES = (
    "profiles",
    "subscriptions",
    "replay_state",
    "gaps",
    "store_meta",
    "store_identity",
    "events",
    "profile_notes",  # the last discovery and publish history of each profile
)


@dataclass(frozen=True)
class CheckResult:
    path: Path
    problems: list[str]
    schema: int | None
    events: int | None

    @property
    def ok(self) -> bool:
        return not self.problems


def check(folder: Path) -> CheckResult:
    """SQLite's full ``integrity_check`` of the folder's capture file (read-only)."""
    path = folder / DB_NAME
    if not path.exists():
        raise FileNotFoundError(f"no sfmonitor capture in {folder}")
    conn = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
    schema = events = None
    problems: list[str] = []
    try:
        schema = version_of(conn)
        rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        if not problems:
            events = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        problems.append(str(exc))
    finally:
        conn.close()
    return CheckResult(path, problems, schema, events)


@dataclass
class Recovery:
    rows: dict[str, int]
    unreadable: list[tuple[str, int, int]]  # table, rows skipped from after this id, to
    kept_as: Path | None = None

    @property
    def lost(self) -> bool:
        return bool(self.unreadable)


def recover(folder: Path, progress: Callable[[str], None] | None = None) -> Recovery:
    """Save what is readable of the folder's capture file into a new one that takes its
    place; the old one is kept beside it. Needs the folder (no capture running)."""
    lock = FolderLock(folder)
    lock.acquire()  # StoreLockedError if another sfmonitor writes it
    try:
        path = folder / DB_NAME
        target = folder / f"{DB_NAME}.recovering"
        for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        source = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True)
        out = sqlite3.connect(target, isolation_level=None)
        try:
            out.execute("PRAGMA page_size = 16384")
            out.execute("PRAGMA journal_mode = WAL")
            migrate(out, None)
            search.ensure(out)
            result = Recovery({}, [])
            for table in TABLES:
                if progress is not None:
                    progress(f"reading {table}")
                result.rows[table] = _copy(source, out, table, result.unreadable)
            if result.lost:
                _resume_before_losses(out, result)
            out.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            source.close()
            out.close()
        result.kept_as = _swap(path, target)
        return result
    finally:
        lock.release()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")]
    except sqlite3.DatabaseError:
        return []


def _copy(
    source: sqlite3.Connection,
    out: sqlite3.Connection,
    table: str,
    unreadable: list[tuple[str, int, int]],
) -> int:
    """Copy the rows of ``table`` that can be read (the columns both files have)."""
    columns = [c for c in _columns(out, table) if c in _columns(source, table)]
    if not columns:
        return 0
    names = ", ".join(columns)
    insert = f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    copied = 0
    for rows in _readable(source, table, names, unreadable):
        with write_transaction(out):
            out.executemany(insert, rows)
        copied += len(rows)
    return copied


def _readable(
    source: sqlite3.Connection, table: str, names: str, unreadable: list[tuple[str, int, int]]
) -> Iterator[list[Any]]:
    """Chunks of rows in rowid order; a chunk that fails is read again row by row, and a
    row that fails is stepped over (further and further until reads work again)."""
    select = f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    after = -(2**63)
    while True:
        try:
            rows = source.execute(select, (after, CHUNK)).fetchall()
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            rows = []
            try:
                while len(rows) < CHUNK:
                    one = source.execute(select, (after, 1)).fetchall()
                    if not one:
                        break
                    rows += one
                    after = one[0][0]
            except sqlite3.DatabaseError:
                if rows:
                    yield [r[1:] for r in rows]
                resume = _skip(source, table, after, unreadable)
                if resume is None:
                    return
                after = resume
                continue
        if not rows:
            return
        yield [r[1:] for r in rows]
        after = rows[-1][0]


def _skip(
    source: sqlite3.Connection, table: str, after: int, unreadable: list[tuple[str, int, int]]
) -> int | None:
    """The first rowid past ``after`` from which rows can be read again (None: none)."""
    step = 1
    while step < 2**62:
        probe = after + step
        try:
            row = source.execute(
                f"SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1", (probe,)
            ).fetchone()
        except sqlite3.DatabaseError:
            step *= 2
            continue
        unreadable.append((table, after, probe))
        return None if row is None else probe
    unreadable.append((table, after, 2**63 - 1))
    return None


def _resume_before_losses(out: sqlite3.Connection, result: Recovery) -> None:
    """Events were lost: each channel resumes from its newest event stored before the
    first loss (0 if none), so the server sends again what it still retains."""
    first_lost = min((a for t, a, _ in result.unreadable if t == "events"), default=None)
    if first_lost is None:
        return
    with write_transaction(out):
        out.execute(
            "UPDATE replay_state SET replay_id = coalesce((SELECT max(e.replay_id) FROM events e "
            "WHERE e.profile_id = replay_state.profile_id AND e.channel = replay_state.channel "
            "AND e.id <= ?), 0), live_since = NULL",
            (first_lost,),
        )
        # a Pub/Sub position is the replay id bytes of that newest event kept (none: the
        # channel's policy), never a position past the loss
        out.execute(
            "UPDATE replay_state SET replay_bytes = (SELECT e.replay_bytes FROM events e "
            "WHERE e.profile_id = replay_state.profile_id AND e.channel = replay_state.channel "
            "AND e.id <= ? AND e.replay_bytes IS NOT NULL ORDER BY e.id DESC LIMIT 1) "
            "WHERE transport = 'pubsub'",
            (first_lost,),
        )


def _swap(path: Path, target: Path) -> Path:
    """The damaged file (with its WAL) steps aside under a dated name; the new one
    takes its place. Returns where the damaged one is."""
    kept = path.with_name(f"{DB_NAME}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, kept)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{kept}{suffix}")
    os.replace(target, path)
    return kept
