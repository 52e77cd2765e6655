"""What the app keeps per profile besides the capture: the last channel discovery (shown at
once by "Add channels…", refreshed on demand) and the payloads published per channel.

Kept in the capture file (``profile_notes``) rather than in settings or a file beside it:
a note goes with its profile (deleted with it, never inherited by a later profile that
gets the same id) and is written through the store's one write path. Values are JSON
text of what the org answered or what the person typed; never a secret.
"""

from __future__ import annotations

import orjson

from .captures import CaptureStore
from .models import now_ms

DISCOVERY = "discovery"
MAX_NOTE = 32 << 20  # a discovery of a very large org is a few megabytes


def publish_key(channel: str) -> str:
    return f"publish:{channel}"


def note(store: CaptureStore, profile_id: int, key: str) -> str | None:
    """The note, or None when there is none."""
    rows = store._read(
        "SELECT value FROM profile_notes WHERE profile_id = ? AND key = ?", (profile_id, key)
    )
    return str(rows[0][0]) if rows else None


def set_note(store: CaptureStore, profile_id: int, key: str, value: str) -> None:
    """Keep ``value`` (JSON text) under ``key``, replacing what was there."""
    if len(value) > MAX_NOTE:
        raise ValueError(f"a note is at most {MAX_NOTE:,} characters")
    with store._transaction() as conn:
        conn.execute(
            "INSERT INTO profile_notes (profile_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (profile_id, key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (profile_id, key, value, now_ms()),
        )


def texts(store: CaptureStore, profile_id: int, key: str) -> list[str]:
    """A note that is a JSON list of texts (a publish history); [] when there is none or
    it is not such a list (a damaged note is forgotten, not fatal)."""
    raw = note(store, profile_id, key)
    try:
        value = orjson.loads(raw) if raw is not None else []
    except orjson.JSONDecodeError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def set_texts(store: CaptureStore, profile_id: int, key: str, values: list[str]) -> None:
    set_note(store, profile_id, key, orjson.dumps(values).decode())
