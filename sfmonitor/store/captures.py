"""``CaptureStore``: the SQLite file holding profiles, subscriptions, replay state, events
and gaps of one data folder.

Thread-safe and blocking: callers on an event loop run its methods in a worker thread
(``writer.StoreWriter`` does, the UI's workers do). Writes go through one connection and
reads through another, so a long query never waits for an ingest (WAL mode).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

from sfmonitor.streaming.events import StreamEvent

from . import search
from .avro_schemas import SchemaRecords
from .counts import CountCache
from .credentials import clear_default_scope, set_default_scope
from .errors import DataDirReadOnlyError, ReadOnlyStoreError, StoreDamagedError
from .filters import icontains
from .health import BackgroundCheck, is_damage, truncated
from .ingest import Ingestor, IngestResult, Position, insert_gap
from .lock import FolderLock
from .models import (
    Gap,
    Profile,
    now_ms,
)
from .paths import DB_NAME, ensure_private_dir, read_only_reason, sqlite_uri
from .profiles import ProfileRecords
from .queries import EventQueries
from .records import INSERT, EventRecord
from .records import event_record as event_record  # where benchmarks and tests look
from .saved_sinks import RetentionResult, SinkRecords
from .schema import migrate, write_transaction
from .validation import (
    retention_problem,
)

PAGE_SIZE = 16384
RETENTION_CHUNK = 2000  # deletes per transaction: each also leaves the search index


class CaptureStore(ProfileRecords, SinkRecords, EventQueries, SchemaRecords):
    """Open with ``CaptureStore.open(folder)``; close with ``close()`` or ``with``. The
    profiles are ``profiles.ProfileRecords``, the sinks ``saved_sinks.SinkRecords``, the
    queries ``queries.EventQueries``, the Avro schemas of Pub/Sub events
    ``avro_schemas.SchemaRecords``."""

    def __init__(
        self, path: Path, read_only: bool, lock: FolderLock | None, index_in_background: bool
    ) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = lock
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()  # guards the list of reader connections
        self._anchor_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._anchors: dict[tuple[Any, ...], list[int]] = {}
        self._anchors_deletions: int | None = None  # store_meta.deletions they are valid for
        self._counts = CountCache()
        self._ingestor = Ingestor()
        self._damage: str | None = None
        self._check: BackgroundCheck | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._pool = ThreadPoolExecutor(3, thread_name_prefix="sfmonitor-query")
        self._searchable = False
        self._counting = False
        # names this file's profiles in the keyring (None: an older file, read-only)
        self.vault_scope: str | None = None
        self._plan_lock = threading.Lock()
        self._plans: dict[tuple[str, ...], str | None] = {}
        self._sampled: tuple[int, list[str]] = (-1, [])  # size bucket, sample
        self._indexer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._new_rows = threading.Event()
        self._last_ingest = 0.0
        self._last_batch = 0
        self._queries = 0  # count_and_fetch calls running: the indexer waits for them
        self._queries_lock = threading.Lock()
        problem = truncated(path)
        if problem is not None:
            raise StoreDamagedError(path, problem)
        try:
            self._setup(read_only, index_in_background)
        except sqlite3.DatabaseError as exc:
            self._close_connections()
            if is_damage(exc):
                raise StoreDamagedError(path, str(exc)) from None
            raise
        self._check = BackgroundCheck(path)

    def _setup(self, read_only: bool, index_in_background: bool) -> None:
        """Connect, migrate, and start the search indexer."""
        path = self.path
        if not read_only:
            self._writer = self._connect(sqlite_uri(path), uri=True)
            # A new file gets 16 KiB pages: a full scan (a text filter) runs ~30% faster
            # than with 4 KiB. An existing file keeps its page size (VACUUM would change it).
            self._writer.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._writer.execute("PRAGMA journal_mode = WAL")
            self._writer.execute("PRAGMA synchronous = NORMAL")
            self._writer.execute("PRAGMA foreign_keys = ON")
            migrate(self._writer, path)
            search.ensure(self._writer)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{path}{suffix}", 0o600)
        # One read connection per thread: reads run in parallel (WAL) and never wait for a
        # write; ``count_and_fetch`` uses up to three at once.
        reader = self._reader_conn()
        self._searchable = search.exists(reader)  # also: fail now if unreadable
        # a read-only look at a file of an older schema has no deletion count: nothing is
        # remembered there
        self._counting = bool(
            reader.execute(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'store_meta'"
            ).fetchone()[0]
        )
        if reader.execute("SELECT 1 FROM sqlite_schema WHERE name = 'store_identity'").fetchone():
            self.vault_scope = str(reader.execute("SELECT id FROM store_identity").fetchone()[0])
            set_default_scope(self.vault_scope)
        if self._writer is not None and self._searchable and index_in_background:
            self._indexer = threading.Thread(
                target=self._index_in_background, name="sfmonitor-search-index", daemon=True
            )
            self._indexer.start()

    @classmethod
    def open(
        cls, folder: Path, read_only: bool = False, index_in_background: bool = True
    ) -> CaptureStore:
        """Open the folder's database; raises StoreLockedError if another process writes it.

        ``read_only`` opens without the lock, for looking at a folder that is in use.
        Without ``index_in_background`` the search index only grows by ``index_pending``.
        """
        if read_only:
            path = folder / DB_NAME
            if not path.exists():
                raise FileNotFoundError(f"no sfmonitor capture in {folder}")
            return cls(path, True, None, False)
        ensure_private_dir(folder)
        lock = FolderLock(folder)
        try:
            lock.acquire()
        except OSError as exc:
            reason = read_only_reason(exc)
            if reason is None:
                raise
            raise DataDirReadOnlyError(
                f"the data folder {folder} cannot be written ({reason})"
            ) from None
        try:
            path = folder / DB_NAME
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            return cls(path, False, lock, index_in_background)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _connect(target: str, uri: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.create_function("sf_icontains", 2, icontains, deterministic=True)
        return conn

    def close(self) -> None:
        if self._check is not None:
            self._check.stop()
        self._close_connections()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        clear_default_scope(self.vault_scope)

    def _close_connections(self) -> None:
        self._stopping.set()
        self._new_rows.set()
        if self._indexer is not None:
            self._indexer.join()
        self._pool.shutdown(wait=True)
        with self._read_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            if self._writer is not None:
                with contextlib.suppress(sqlite3.Error):  # a damaged file: close anyway
                    self._writer.execute("PRAGMA optimize")
                self._writer.close()
                self._writer = None

    @property
    def damage(self) -> str | None:
        """What is wrong with the file, once known (None: nothing found, or not yet)."""
        if self._damage is None and self._check is not None and self._check.done.is_set():
            self._damage = self._check.damage
        return self._damage

    def wait_checked(self, timeout: float | None = None) -> str | None:
        """Wait for the check begun at open; what it found."""
        if self._check is not None:
            self._check.done.wait(timeout)
        return self.damage

    def _damaged(self, exc: sqlite3.DatabaseError) -> StoreDamagedError:
        self._damage = self._damage or str(exc)
        return exc if isinstance(exc, StoreDamagedError) else StoreDamagedError(self.path, str(exc))

    def __enter__(self) -> CaptureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; none once the file is known to be damaged."""
        if self._writer is None:
            raise ReadOnlyStoreError(f"{self.path} is open read-only")
        damage = self.damage
        if damage is not None:
            raise StoreDamagedError(self.path, damage)
        try:
            with self._write_lock, write_transaction(self._writer) as conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise self._damaged(exc) from exc
            raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._reader_conn().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise self._damaged(exc) from exc
            raise

    def _reader_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(sqlite_uri(self.path, read_only=True), uri=True)
            self._local.conn = conn
            with self._read_lock:
                self._readers.append(conn)
        return conn

    # --- ingest ----------------------------------------------------------------------------

    def ingest(self, profile_id: int, events: Sequence[StreamEvent]) -> IngestResult:
        """Store events and each channel's newest replay id in ONE transaction.

        Re-deliveries (same channel and replay id, or same EventUuid) are dropped by the
        unique indexes. A crash before the commit loses both the events and their replay
        ids, so the next run asks the server for them again: nothing is lost.
        """
        records = [event_record(profile_id, ev) for ev in events]
        return self.ingest_records(records)

    def ingest_records(
        self, records: Sequence[Sequence[Any]], positions: Sequence[Position] = ()
    ) -> IngestResult:
        """``ingest`` for rows already built with ``event_record`` (see ``ingest``); plain
        tuples in ``EventRecord``'s column order are taken too (tests, benchmarks). Pub/Sub
        positions moved by keepalives are written after the rows, in the same transaction."""
        rows = cast(Sequence[EventRecord], records)
        if rows and not isinstance(rows[0], EventRecord):
            rows = [EventRecord(*r) for r in records]  # the Pub/Sub fields default to None
        with self._transaction() as conn:
            result, remember = self._ingestor.ingest(conn, rows, positions)
            self._new_rows.set()
            self._last_ingest = time.monotonic()
            self._last_batch = len(records)
        remember()
        return result

    def record_gap(self, profile_id: int, gap: Gap) -> Gap:
        """Record a gap, and a marked row (kind ``gap``) in the events at the same moment,
        so that the table and exports show where events may be missing."""
        with self._transaction() as conn:
            return insert_gap(conn, profile_id, gap)

    def gaps(self, profile_id: int) -> list[Gap]:
        rows = self._read(
            "SELECT channel, at, stored_replay_id, action, server_text, id FROM gaps "
            "WHERE profile_id = ? ORDER BY id",
            (profile_id,),
        )
        return [Gap(*r) for r in rows]

    # --- retention -------------------------------------------------------------------------

    def apply_retention(self, profile: Profile, sink_ids: Iterable[str] = ()) -> int:
        """``retention``; how many events were deleted."""
        return self.retention(profile, sink_ids).deleted

    def retention(self, profile: Profile, sink_ids: Iterable[str] = ()) -> RetentionResult:
        """Delete events beyond the profile's limits, in small transactions so that ingest
        is never held up for long; never one a sink has not acknowledged (the profile's
        saved sinks and ``sink_ids``, see ``retention_floor``): those are counted as held."""
        if profile.id is None:
            return RetentionResult(0)
        problem = retention_problem(profile.keep_events, profile.keep_days)
        if problem is not None:  # e.g. written by an older version: never delete on it
            raise ValueError(f"retention of profile {profile.name!r} not applied: {problem}")
        floor, cursors = self.retention_floor(profile.id, sink_ids)
        upto = "" if floor is None else f" AND id <= {int(floor)}"
        deleted = 0
        past: list[str] = []  # what makes an event past the limits, for the held count
        if profile.keep_days is not None:
            cutoff = now_ms() - int(profile.keep_days * 86_400_000)
            past.append(f"created_at < {cutoff}")
            deleted += self._delete_chunks(
                f"SELECT id FROM events WHERE profile_id = ? AND created_at < ?{upto} LIMIT ?",
                (profile.id, cutoff),
            )
        if profile.keep_events is not None:
            rows = self._read(
                "SELECT id FROM events WHERE profile_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                (profile.id, profile.keep_events),
            )
            if rows:
                past.append(f"id <= {int(rows[0][0])}")
                deleted += self._delete_chunks(
                    f"SELECT id FROM events WHERE profile_id = ? AND id <= ?{upto} LIMIT ?",
                    (profile.id, rows[0][0]),
                )
        if floor is None or not past:
            return RetentionResult(deleted)
        held, newest = self._read(
            "SELECT count(*), max(id) FROM events WHERE profile_id = ? AND id > ? "
            f"AND ({' OR '.join(past)})",
            (profile.id, floor),
        )[0]
        by = tuple(s for s, c in cursors.items() if newest is not None and c < newest)
        return RetentionResult(deleted, int(held), by)

    def _delete_chunks(self, select: str, params: tuple[Any, ...]) -> int:
        total = 0
        while True:
            with self._transaction() as conn:
                cur = conn.execute(
                    f"DELETE FROM events WHERE id IN ({select})", (*params, RETENTION_CHUNK)
                )
                total += cur.rowcount
            if cur.rowcount < RETENTION_CHUNK:
                return total

    def import_rows(self, profile: Profile, records: Iterable[tuple[Any, ...]]) -> int:
        """Create ``profile`` and its events in ONE transaction (all or nothing).

        ``records`` yields ``events`` rows without their profile id; if it raises, nothing
        is kept.
        """
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT INTO profiles (name, environment, login_url, auth_kind, username, "
                "client_id, api_version, source, created_at) "
                "VALUES (?, ?, '', ?, '', '', '', ?, ?)",
                (
                    profile.name,
                    profile.environment.value,
                    profile.auth_kind.value,
                    profile.source,
                    now_ms(),
                ),
            )
            pid = cur.lastrowid
            before = conn.total_changes
            conn.executemany(INSERT, ((pid, *r) for r in records))
            return conn.total_changes - before
