"""The capture database's schema, versioned with ``PRAGMA user_version``.

Each entry of ``MIGRATIONS`` takes a database from version ``i`` to ``i + 1``; a new
schema change is a new entry, never an edit of an old one. Before migrating an existing
database, a copy is written next to it (``capture.db.v1.bak``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import SchemaTooNewError


def timeline_indexes() -> str:
    """The timeline strip's indexes (``store.timeline``, issue 18): its counts per bucket and
    channel are then index range counts (no table row read), and its gap marks a walk of a
    partial index of gap rows. Costs ~13% of raw ingest and ~1 s per million events to build."""
    return """
    CREATE INDEX IF NOT EXISTS events_timeline ON events (profile_id, channel, created_at);
    CREATE INDEX IF NOT EXISTS events_gap_rows ON events (profile_id, created_at)
        WHERE kind = 'gap';
    """


def login_settings() -> str:
    """What the login kinds of issue 15 keep on a profile (none of it secret): the browser
    login's callback port, the Salesforce CLI's org, the JWT key file's path, and who and
    where the last login was as the org said (its id, name, the user, and production /
    sandbox / scratch / unknown). ``refresh_token`` becomes ``refresh-token``, the word of
    ``--auth``."""
    return """
    ALTER TABLE profiles ADD COLUMN callback_port INTEGER NOT NULL DEFAULT 1717;
    ALTER TABLE profiles ADD COLUMN sf_org TEXT NOT NULL DEFAULT '';
    ALTER TABLE profiles ADD COLUMN key_file TEXT NOT NULL DEFAULT '';
    ALTER TABLE profiles ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE profiles ADD COLUMN org_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE profiles ADD COLUMN org_user TEXT NOT NULL DEFAULT '';
    ALTER TABLE profiles ADD COLUMN org_kind TEXT NOT NULL DEFAULT '';
    UPDATE profiles SET auth_kind = 'refresh-token' WHERE auth_kind = 'refresh_token';
    """


def _pubsub_transport() -> str:
    """Pub/Sub beside CometD: a transport per profile (the default) and per channel (an
    override; '' = the profile's), the profile's Pub/Sub endpoint ('' = Salesforce's),
    opaque replay id bytes on events and on replay positions, whose transport is kept
    (a position is never converted: a channel moved to the other transport starts from its
    policy), a Pub/Sub event's schema id and Avro bytes as received, and the Avro schemas
    by id (exports and stored events decode offline). An 8-byte replay id also fills
    ``replay_id`` (its big-endian value), so sorting, filters and dedupe keep working;
    other lengths are kept unique by their bytes."""
    return """
    ALTER TABLE profiles ADD COLUMN transport TEXT NOT NULL DEFAULT 'cometd';
    ALTER TABLE profiles ADD COLUMN pubsub_endpoint TEXT NOT NULL DEFAULT '';
    ALTER TABLE subscriptions ADD COLUMN transport TEXT NOT NULL DEFAULT '';
    ALTER TABLE replay_state ADD COLUMN transport TEXT NOT NULL DEFAULT 'cometd';
    ALTER TABLE replay_state ADD COLUMN replay_bytes BLOB;
    ALTER TABLE events ADD COLUMN replay_bytes BLOB;
    ALTER TABLE events ADD COLUMN schema_id TEXT;
    ALTER TABLE events ADD COLUMN avro BLOB;
    CREATE UNIQUE INDEX events_replay_bytes ON events (profile_id, channel, replay_bytes)
        WHERE replay_id IS NULL AND replay_bytes IS NOT NULL;
    CREATE TABLE avro_schemas (
        schema_id TEXT PRIMARY KEY,
        schema_json TEXT NOT NULL,
        saved_at INTEGER NOT NULL       -- ms since the epoch, UTC
    ) STRICT;
    """


# A step is SQL, or a function for a change SQL alone cannot make (it runs inside the step's
# transaction).
Step = str | Callable[[sqlite3.Connection], None]

# The newest event a sink has acknowledged, per profile and sink (``sfmonitor.sinks``):
# rows are forwarded in ``events.id`` order and the cursor only moves forward.
SINK_CURSORS_DDL = """
CREATE TABLE IF NOT EXISTS sink_cursors (
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    sink_id TEXT NOT NULL,            -- the destination, e.g. kafka://host:9092/topic
    last_event_id INTEGER NOT NULL,   -- events.id of the newest acknowledged event
    acked INTEGER NOT NULL DEFAULT 0, -- events acknowledged so far (a counter)
    updated_at INTEGER NOT NULL,      -- ms since the epoch, UTC
    PRIMARY KEY (profile_id, sink_id)
) STRICT;
"""


def sink_tables() -> str:
    """v7: each sink's cursor, and the sinks saved on a profile (their URLs never hold a
    password: that is in the keyring, named by the profile id and the sink id)."""
    return (
        SINK_CURSORS_DDL
        + """
    CREATE TABLE IF NOT EXISTS profile_sinks (
        profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        sink_id TEXT NOT NULL,          -- the destination: names its cursor and keyring entry
        url TEXT NOT NULL,              -- the sink URL as given, without any password
        position INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (profile_id, sink_id)
    ) STRICT;
    """
    )


_EVENTS_KEY = re.compile(r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b(?!\s+AUTOINCREMENT)", re.IGNORECASE)


def event_ids_never_reused(conn: sqlite3.Connection) -> None:
    """v8: ``events.id`` becomes AUTOINCREMENT, so that an id is never handed out twice.

    A sink's cursor is an event id: without AUTOINCREMENT SQLite gives a new row the
    highest id plus one, so deleting a profile's newest events (a channel removed with
    its events) would let new events take ids at or below a cursor, and they would never
    be forwarded. SQLite cannot add AUTOINCREMENT to a table: the table is copied into a
    new one (the same columns, whatever earlier steps added, and the same ids), its
    indexes and triggers made again (~12 s per million events, once)."""
    (sql,) = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'events'").fetchone()
    if not _EVENTS_KEY.search(sql):
        return  # already done (a file that was put back to an older version)
    dependents = [
        row[0]
        for row in conn.execute(
            "SELECT sql FROM sqlite_schema WHERE tbl_name = 'events' "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    new_sql = _EVENTS_KEY.sub("id INTEGER PRIMARY KEY AUTOINCREMENT", sql, count=1)
    conn.execute(re.sub(r"(?i)^CREATE TABLE\s+\"?events\"?", "CREATE TABLE events_new", new_sql))
    conn.execute("INSERT INTO events_new SELECT * FROM events")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE events_new RENAME TO events")
    for statement in dependents:
        conn.execute(statement)


def profile_notes_table() -> str:
    """v10: what the app keeps per profile besides the capture (the last channel discovery,
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


MIGRATIONS: list[Step] = [
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
    # v5: the login kinds' settings and the org's own word on a profile
    login_settings(),
    # v6: the Pub/Sub API beside CometD
    _pubsub_transport(),
    # v7: sink cursors and the sinks saved on a profile
    sink_tables(),
    # v8: event ids never handed out twice
    event_ids_never_reused,
    # v9: the timeline's indexes (issue 18)
    timeline_indexes(),
    # v10: notes kept per profile (the last channel discovery, published payloads)
    profile_notes_table(),
]


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
        step = MIGRATIONS[version]
        with write_transaction(conn):
            if callable(step):
                step(conn)
            else:
                for statement in _statements(step):
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
