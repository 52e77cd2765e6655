"""Replay ids of the Pub/Sub API: opaque bytes, shown and sorted by their 8-byte big-endian
value when they have 8 bytes (what every client and the emulator use in practice)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


def replay_value(replay_id: bytes) -> int | None:
    """The unsigned 8-byte big-endian value, or None when the id is not 8 bytes long."""
    if len(replay_id) != 8:
        return None
    return int.from_bytes(replay_id, "big")


def encode_replay(value: int) -> bytes:
    """``value`` as the 8-byte big-endian replay id the API sends."""
    if not 0 <= value < 1 << 64:
        raise ValueError(f"a replay id value is an unsigned 64-bit integer, not {value}")
    return value.to_bytes(8, "big")


def show_replay(replay_id: bytes) -> str:
    """Decimal for 8-byte ids, ``0x…`` hex for any other length (never lossy)."""
    value = replay_value(replay_id)
    return str(value) if value is not None else "0x" + replay_id.hex().upper()


def replay_sort_key(replay_id: bytes) -> tuple[int, int, bytes]:
    """Orders 8-byte ids by value, and other lengths after them by their bytes."""
    value = replay_value(replay_id)
    if value is not None:
        return (0, value, b"")
    return (1, len(replay_id), replay_id)


class Preset(enum.IntEnum):
    """``ReplayPreset`` of the proto."""

    LATEST = 0
    EARLIEST = 1
    CUSTOM = 2


@dataclass(frozen=True)
class ReplayFrom:
    """Where a subscription starts: ``ReplayFrom.latest()``, ``.earliest()``,
    ``.custom(replay_id)`` (the events after that id), or ``.live_since(t)``: new events
    only, for a topic that went live at ``t`` (epoch seconds) and received nothing since
    (EARLIEST, dropping events created before ``t``: nothing published meanwhile is lost)."""

    preset: Preset
    replay_id: bytes = b""
    since: float | None = None  # with EARLIEST: drop events created before (epoch seconds)

    def __post_init__(self) -> None:
        if self.preset is Preset.CUSTOM and not self.replay_id:
            raise ValueError("a CUSTOM start needs a replay id")
        if self.since is not None and self.preset is not Preset.EARLIEST:
            raise ValueError("a live-since start replays from EARLIEST")

    @classmethod
    def live_since(cls, since: float) -> ReplayFrom:
        return cls(Preset.EARLIEST, since=since)

    @classmethod
    def latest(cls) -> ReplayFrom:
        return cls(Preset.LATEST)

    @classmethod
    def earliest(cls) -> ReplayFrom:
        return cls(Preset.EARLIEST)

    @classmethod
    def custom(cls, replay_id: bytes | int) -> ReplayFrom:
        raw = encode_replay(replay_id) if isinstance(replay_id, int) else bytes(replay_id)
        return cls(Preset.CUSTOM, raw)
