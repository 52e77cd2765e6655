"""A trigram index over the events' summary and raw message, so that a substring filter
finds its few matches among a million events without reading them all.

The index is a cache, not data: an FTS5 table (``tokenize=trigram``, ``detail=none``:
rowids only, about 15% of the events' size) over the ``events`` table, filled in the
background some way behind ingest (indexing is slower than storing, and a flood must not
wait for it). ``search_progress.upto`` is the highest event id indexed; queries use the
index up to it and scan the rows above it, so results are exact however far behind the
index is. The trigram match only narrows the candidates: every candidate is still
checked with the same ``LIKE`` as a full scan, which keeps the two paths equivalent.

Deleted events leave the index through a trigger. When the newest events are deleted,
SQLite may hand their ids out again, so ``upto`` is lowered to the highest remaining id.
Where SQLite lacks FTS5 or the trigram tokenizer, ``ensure`` returns False and every
substring filter scans, as before.
"""

from __future__ import annotations

import sqlite3

MIN_TERM = 3  # a trigram index cannot narrow a search for one or two characters
BROAD_SHARE = 0.15  # a trigram in more than this share of the events: scanning is cheaper
MAX_UNINDEXED = 50_000  # more events than this not indexed yet (a flood): scanning is cheaper

_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5(summary, raw, "
    "content='events', content_rowid='id', tokenize='trigram', detail='none')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS events_text_vocab USING fts5vocab(events_text, 'row')",
    "CREATE TABLE IF NOT EXISTS search_progress (only INTEGER PRIMARY KEY CHECK (only = 1), "
    "upto INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO search_progress VALUES (1, 0)",
    # an indexed event that is deleted leaves the index (FTS5 needs its old text for that)
    """CREATE TRIGGER IF NOT EXISTS events_text_delete AFTER DELETE ON events
       WHEN old.id <= (SELECT upto FROM search_progress) BEGIN
         INSERT INTO events_text (events_text, rowid, summary, raw)
           VALUES ('delete', old.id, old.summary, old.raw);
         UPDATE search_progress SET upto = (SELECT coalesce(max(id), 0) FROM events)
           WHERE upto > (SELECT coalesce(max(id), 0) FROM events);
       END""",
)


def ensure(conn: sqlite3.Connection) -> bool:
    """Create the index if this SQLite can; False if it cannot (no FTS5 or trigram)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _CREATE:
                conn.execute(statement)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.OperationalError:
        return False
    return True


def exists(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_schema WHERE name IN ('events_text', 'search_progress')"
    ).fetchone()
    return bool(row[0] == 2)


def index_some(conn: sqlite3.Connection, limit: int) -> int:
    """Index up to ``limit`` events above the watermark; call inside a write transaction.
    Returns how many were indexed (0: the index has caught up)."""
    upto = conn.execute("SELECT upto FROM search_progress").fetchone()[0]
    last = conn.execute(
        "SELECT max(id) FROM (SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?)",
        (upto, limit),
    ).fetchone()[0]
    if last is None:
        return 0
    cur = conn.execute(
        "INSERT INTO events_text (rowid, summary, raw) "
        "SELECT id, summary, raw FROM events WHERE id > ? AND id <= ?",
        (upto, last),
    )
    conn.execute("UPDATE search_progress SET upto = ?", (last,))
    return max(cur.rowcount, 0)


def trigrams(text: str) -> list[str]:
    """The distinct trigrams of ``text``, in order (the tokenizer folds their case)."""
    seen: dict[str, None] = {}
    for i in range(len(text) - 2):
        seen.setdefault(text[i : i + 3].lower())
    return list(seen)


def usable(text: str) -> bool:
    """Whether the index can narrow a search for ``text``: ASCII (the case folding of the
    index and of ``LIKE`` agree there) and at least three characters."""
    return text.isascii() and len(text) >= MIN_TERM and "\x00" not in text


def match_expression(texts: list[str]) -> str:
    """An FTS5 query that every event containing all of ``texts`` matches."""
    grams = dict.fromkeys(g for text in texts for g in trigrams(text))
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def broad(conn: sqlite3.Connection, texts: list[str]) -> bool:
    """Whether every text looks common: its first and last trigrams (checking two keeps
    this cheap) are each in more than BROAD_SHARE of the indexed events. Then the index
    would hand out most events as candidates, and a scan is cheaper."""
    indexed = conn.execute("SELECT upto FROM search_progress").fetchone()[0]  # about
    for text in texts:
        grams = trigrams(text)
        for gram in {grams[0], grams[-1]}:
            row = conn.execute(
                "SELECT doc FROM events_text_vocab WHERE term = ?", (gram,)
            ).fetchone()
            if (row[0] if row else 0) <= BROAD_SHARE * indexed:
                return False
    return True


def progress(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event id and the highest one indexed (their difference: about how many
    events the index has not reached yet)."""
    row = conn.execute(
        "SELECT coalesce(max(id), 0), (SELECT upto FROM search_progress) FROM events"
    ).fetchone()
    return int(row[0]), int(row[1])


MAX_ID = 2**63 - 1
# ``e.id``'s candidates: the index's matches and every event the index has not reached,
# between two ids. Parameters: the ``match_expression``, then low, high, low, high.
CANDIDATES = (
    "e.id IN (SELECT rowid FROM events_text(?) WHERE rowid > ? AND rowid <= ? UNION ALL "
    "SELECT id FROM events WHERE id > max(?, (SELECT upto FROM search_progress)) AND id <= ?)"
)
