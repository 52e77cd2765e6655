"""A reply body as a list of Bayeux messages, keeping every message that can be read.

A reply is a JSON array of messages. When the whole array cannot be parsed, it is split
into its top-level elements and each is parsed alone: a message that no parser accepts
(nesting deeper than the parsers' ~1,000 levels, a number JSON does not allow) is set aside
as ``Rejected`` with its channel, and the rest of the reply is delivered. Refusing the whole
reply instead would make the client reconnect and replay from the last id, and receive the
same reply again: the channel would stall forever (issue 13).

A reply that is cut short, or is not an array at all, stays an error
(``MalformedResponseError``): the client then reconnects and replays from the last id
received, so a reply lost in transit loses nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import MalformedResponseError

# a JSON string (escapes included) or a structural character; everything else is skipped
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_CHANNEL = re.compile(rb'"channel"\s*:\s*"([^"\\]{1,300})"')


@dataclass(frozen=True)
class Rejected:
    """A message of a reply that could not be read; ``channel`` as far as it could be found."""

    channel: str | None
    size: int
    reason: str


def parse_json(body: bytes) -> Any:
    """orjson, or the standard parser for what orjson refuses but JSON allows: an escaped
    lone surrogate (``"\\ud800"``) in a text field. Refusing it would refuse the whole
    reply, and the same events would come back forever; the stream would be dead."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedResponseError(f"reply is not JSON: {snippet(body)}") from exc


def parse_batch(body: bytes) -> tuple[list[Any], list[Rejected]]:
    """The messages of a reply (a single object counts as a one-message batch), and the
    elements of the array that could not be read."""
    try:
        data = parse_json(body)
    except MalformedResponseError:
        parts = split_array(body)
        if parts is None:
            raise
        return _parse_parts(parts)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise MalformedResponseError(f"reply is not a Bayeux message array: {snippet(body)}")
    return data, []


def _parse_parts(parts: list[bytes]) -> tuple[list[Any], list[Rejected]]:
    messages: list[Any] = []
    rejected: list[Rejected] = []
    for part in parts:
        try:
            messages.append(parse_json(part))
        except MalformedResponseError:
            found = _CHANNEL.findall(part)
            # a message is {"data": {...}, "channel": ...}: the last match is its own
            channel = found[-1].decode("utf-8", "replace") if found else None
            depth = part.count(b"[") + part.count(b"{")
            reason = "nesting too deep to read" if depth > 1000 else "not valid JSON"
            rejected.append(Rejected(channel, len(part), reason))
    return messages, rejected


def split_array(body: bytes) -> list[bytes] | None:
    """The top-level elements of a JSON array, unparsed; None unless ``body`` is one whole,
    balanced array (a truncated body is not split: nothing of it is trusted)."""
    if not body.rstrip().endswith(b"]"):
        return None  # cut short (the usual case): no need to walk it
    parts: list[bytes] = []
    depth = 0
    start = end = -1
    for match in _TOKEN.finditer(body):
        char = body[match.start()]
        if char == 0x22:  # a string
            continue
        if char in b"[{":
            if depth == 0:
                if char != 0x5B or body[: match.start()].strip():
                    return None
                start = match.end()
            depth += 1
        elif char in b"]}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                end = match.end()
                parts.append(body[start : match.start()])
                break
        elif depth == 1:  # a comma between two elements
            parts.append(body[start : match.start()])
            start = match.end()
    if end < 0 or body[end:].strip():
        return None
    return [p for p in parts if p.strip()]


def snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return " ".join(text.split())
