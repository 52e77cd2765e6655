"""The capture database's schema, versioned with ``PRAGMA user_version``.

Each entry of ``MIGRATIONS`` takes a database from version ``i`` to ``i + 1``; a new
schema change is a new entry, never an edit of an old one. Before migrating an existing
database, a copy is written next to it (``capture.db.v1.bak``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .errors import SchemaTooNewError

MIGRATIONS: list[str] = [
    # v1: profiles, subscriptions, replay state, events
    """
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        environment TEXT NOT NULL,      -- production | sandbox | custom | demo | imported
        login_url TEXT NOT NULL,
        auth_kind TEXT NOT NULL,        -- password | refresh_token
        username TEXT NOT NULL DEFAULT '',
        client_id TEXT NOT NULL DEFAULT '',
        api_version TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL     -- ms since the epoch, UTC
    ) STRICT;
    CREATE TABLE subscriptions (
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        replay_policy TEXT NOT NULL DEFAULT 'new',  -- new | all | <replay id>
        position INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (profile_id, channel)
    ) STRICT;
    CREATE TABLE replay_state (
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        replay_id INTEGER,              -- newest stored event's replay id
        created_at INTEGER,             -- and its creation time (ms)
        live_since INTEGER,             -- live from -1 since (ms), before any event
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (profile_id, channel)
    ) STRICT;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        replay_id INTEGER,
        event_uuid TEXT,
        created_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        change TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL,
        raw TEXT NOT NULL               -- the message exactly as received, compact JSON
    ) STRICT;
    CREATE UNIQUE INDEX events_replay ON events (profile_id, channel, replay_id)
        WHERE replay_id IS NOT NULL;
    CREATE UNIQUE INDEX events_uuid ON events (profile_id, channel, event_uuid)
        WHERE event_uuid IS NOT NULL;
    CREATE INDEX events_profile ON events (profile_id);
    CREATE INDEX events_created ON events (profile_id, created_at);
    """,
    # v2: recorded gaps, retention settings, imported captures, channel index
    """
    CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        at INTEGER NOT NULL,
        stored_replay_id INTEGER,
        action TEXT NOT NULL,
        server_text TEXT NOT NULL
    ) STRICT;
    ALTER TABLE profiles ADD COLUMN keep_events INTEGER;
    ALTER TABLE profiles ADD COLUMN keep_days REAL;
    ALTER TABLE profiles ADD COLUMN source TEXT NOT NULL DEFAULT '';
    CREATE INDEX events_channel ON events (profile_id, channel);
    """,
    # v3: a count of deleted events, so that remembered counts and windows (which stay
    # right while events are only appended) can tell that they are stale, in any process
    """
    CREATE TABLE store_meta (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        deletions INTEGER NOT NULL
    ) STRICT;
    INSERT INTO store_meta VALUES (1, 0);
    CREATE TRIGGER events_deleted AFTER DELETE ON events BEGIN
        UPDATE store_meta SET deletions = deletions + 1;
    END;
    """,
    # v4: a random id of this file (its profiles' keyring entries are named by it, so two
    # data folders never share one), and an event is known by its channel, replay id AND
    # creation time: a server whose replay ids start over (a sandbox refresh) sends new
    # events under old ids, and those are kept, not dropped as re-deliveries
    """
    CREATE TABLE store_identity (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        id TEXT NOT NULL
    ) STRICT;
    INSERT INTO store_identity VALUES (1, lower(hex(randomblob(16))));
    DROP INDEX events_replay;
    CREATE UNIQUE INDEX events_replay ON events (profile_id, channel, replay_id, created_at)
        WHERE replay_id IS NOT NULL;
    """,
]


def profile_notes_table() -> str:
    """v5: what the app keeps per profile besides the capture (the last channel discovery,
    the payloads published), dropped with the profile; never a secret."""
    return """
    CREATE TABLE profile_notes (
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        key TEXT NOT NULL,              -- discovery | publish:<channel>
        value TEXT NOT NULL,            -- JSON
        updated_at INTEGER NOT NULL,    -- ms since the epoch, UTC
        PRIMARY KEY (profile_id, key)
    ) STRICT;
    """


MIGRATIONS.append(profile_notes_table())
SCHEMA_VERSION = len(MIGRATIONS)


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (take the write lock now, not at the first write), COMMIT, or
    ROLLBACK on any error; for connections in autocommit mode (isolation_level None)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path | None, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to ``target``; returns the version it had.

    An existing database (version > 0) is first copied to ``<path>.v<N>.bak``. Each step
    runs in its own transaction together with the new ``user_version``.
    """
    current = version_of(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path or 'the database'} has schema version {current}, newer than this "
            f"sfmonitor understands ({SCHEMA_VERSION}); please update sfmonitor"
        )
    if current >= target:
        return current
    if current > 0 and path is not None:
        backup_copy(conn, Path(f"{path}.v{current}.bak"))
    for version in range(current, target):
        with write_transaction(conn):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
    return current


def backup_copy(conn: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of the database, readable by its owner only (it holds every
    captured event)."""
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(target, 0o600)
    backup = sqlite3.connect(target)
    try:
        conn.backup(backup)
    finally:
        backup.close()


def _statements(script: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    parts: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            parts.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        parts.append(buffer.strip())
    return [p for p in parts if p]
