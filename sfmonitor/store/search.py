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

import json
import random
import sqlite3

from .schema import write_transaction

MIN_TERM = 3  # a trigram index cannot narrow a search for one or two characters
BROAD_SHARE = 0.15  # candidates in more than this share of the events: scanning is cheaper
MAX_UNINDEXED = 50_000  # more events than this not indexed yet (a flood): scanning is cheaper
FEW_EVENTS = 10_000  # a query over an id range this short reads its rows (~5 ms) instead

_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS events_text USING fts5(summary, raw, "
    "content='events', content_rowid='id', tokenize='trigram', detail='none')",
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
        with write_transaction(conn):
            for statement in _CREATE:
                conn.execute(statement)
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


SAMPLE_SIZE = 512  # events read to estimate how common a text and its trigrams are
MAX_GRAMS = 4  # trigrams per query: each more narrows less and costs a doclist merge


def sample(conn: sqlite3.Connection, newest: int, size: int = SAMPLE_SIZE) -> list[str]:
    """The lowercased summary and raw message of up to ``size`` events picked at random
    among the ids (one seek each): the planner's statistics. A sample is cheaper than the
    index's own counts, which read a trigram's whole doclist (~50 ms for a trigram in a
    million events). Random, not evenly spaced: a capture's events often come in a
    repeating pattern that a fixed step would sample only one part of. Seeded with
    ``newest`` so that the same capture gets the same plans."""
    if newest < 1:
        return []
    ids = random.Random(newest).sample(range(1, newest + 1), min(size, newest))
    rows = conn.execute(
        "SELECT lower(summary) || char(10) || lower(raw) FROM events "
        "WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    ).fetchall()
    return [r[0] for r in rows]


def cheapest_first(samples: list[str], texts: tuple[str, ...]) -> tuple[str, ...]:
    """The texts of a filter (all must match) in the order that rules events out soonest
    when rows are read: the rarest in the sample first, non-ASCII text (checked by a
    Python function) last. For ``acme corp 12345`` the rare "12345" goes first, and "acme"
    and "corp" are checked only on the few events that hold it."""

    def share(text: str) -> int:
        needle = text.lower()
        return sum(needle in sample for sample in samples)

    return tuple(sorted(texts, key=lambda t: (not t.isascii(), share(t) if t.isascii() else 0)))


def plan(samples: list[str], texts: list[str]) -> str | None:
    """The FTS5 query whose matches include every event containing all of ``texts``, or
    None when the index would not narrow enough (a scan is cheaper).

    It uses a few trigrams: the rarest in the sample first, then others that still remove
    candidates from the sample, or are too rare for the sample to tell (in at most 1% of
    it: a short doclist, cheap to merge, and likely to narrow).
    Any subset of a text's trigrams gives a superset of its matches, and every candidate
    is checked with LIKE, so the choice changes speed, never answers. Candidates in more
    than BROAD_SHARE of the sample: scan, the index would only add seeks."""
    holders = {
        gram: {i for i, text in enumerate(samples) if gram in text}
        for text in texts
        for gram in trigrams(text)
    }
    ranked = sorted(holders, key=lambda g: len(holders[g]))  # stable: ties keep text order
    rare = len(samples) // 100
    chosen = [ranked[0]]
    candidates = holders[ranked[0]]
    for gram in ranked[1:]:
        if len(chosen) == MAX_GRAMS:
            break
        narrower = candidates & holders[gram]
        if len(holders[gram]) <= rare or len(narrower) < len(candidates):
            chosen.append(gram)
            candidates = narrower
    if len(candidates) > BROAD_SHARE * len(samples):
        return None
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in chosen)


def progress(conn: sqlite3.Connection) -> tuple[int, int]:
    """The newest event id and the highest one indexed (their difference: about how many
    events the index has not reached yet)."""
    row = conn.execute(
        "SELECT coalesce(max(id), 0), (SELECT upto FROM search_progress) FROM events"
    ).fetchone()
    return int(row[0]), int(row[1])


MAX_ID = 2**63 - 1
# ``e.id``'s candidates: the index's matches and every event the index has not reached,
# between two ids. Parameters: ``candidate_params``.
CANDIDATES = (
    "e.id IN (SELECT rowid FROM events_text(?) WHERE rowid > ? AND rowid <= ? UNION ALL "
    "SELECT id FROM events WHERE id > max(?, (SELECT upto FROM search_progress)) AND id <= ?)"
)


def candidate_params(match: tuple[str, int, int]) -> list[object]:
    """The parameters of CANDIDATES for a plan and an id range (low, high]."""
    expression, low, high = match
    return [expression, low, high, low, high]


def first_ids(
    conditions: list[str], params: list[object], match: tuple[str, int, int], count: int, after: int
) -> tuple[str, list[object]]:
    """SQL (and parameters) for the ids of the first ``count`` events in id order above
    ``after`` that meet ``conditions`` (over alias ``e``) among the index's candidates.

    It reads the index's matches in id order and stops after ``count`` of them pass,
    where CANDIDATES collects every match first (~50 ms for a word in 1 of 8 of a
    million events, for a window of 100). The events the index has not reached are
    read in id order too; the two parts are merged."""
    expression, low, high = match
    low = max(low, after)
    extra = "".join(f" AND {c}" for c in conditions)
    sql = (
        "SELECT id FROM (SELECT e.id AS id FROM events_text(?) t CROSS JOIN events e "
        "ON e.id = t.rowid WHERE t.rowid > ? AND t.rowid <= min(?, (SELECT upto FROM "
        f"search_progress)){extra} ORDER BY t.rowid LIMIT ?) UNION ALL SELECT id FROM "
        "(SELECT e.id AS id FROM events e WHERE e.id > max(?, (SELECT upto FROM "
        f"search_progress)) AND e.id <= ?{extra} ORDER BY e.id LIMIT ?) ORDER BY id"
    )
    return sql, [expression, low, high, *params, count, low, high, *params, count]
