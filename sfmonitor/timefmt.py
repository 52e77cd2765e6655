"""Salesforce's timestamps, both ways: epoch milliseconds to its ISO text, and its text (with
``Z`` or ``+0000``) to an aware UTC datetime.

A neutral module with no dependencies: the clients, the emulator and the store all read and
write these times, and none of them should import another just for them.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_from_ms(ms: int) -> str:
    """``2016-03-29T16:40:08.208Z``: UTC, always three digits of milliseconds (the order of
    the text is the order of the times, so stored texts sort correctly)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(text: str | None) -> datetime | None:
    """A Salesforce timestamp (``...Z`` or ``+0000``) as an aware UTC datetime, or None."""
    if not text:
        return None
    try:
        value = text.replace("Z", "+00:00")
        if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
            value = value[:-2] + ":" + value[-2:]
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
