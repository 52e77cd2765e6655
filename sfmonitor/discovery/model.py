"""What discovery finds: channels by kind with their badges, and how each source fared.

``Discovery`` is plain data with a JSON form (``to_json`` / ``from_json``) so that the app
can keep it per profile and show it at once, refreshing on demand. It holds no secret: the
instance URL, the API version and what the org answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

import orjson

FORMAT = 1


class Kind(StrEnum):
    """Kinds of channel, in the order a person reads them."""

    PUSH_TOPIC = "pushtopic"
    GENERIC = "generic"
    PLATFORM_EVENT = "platform_event"
    STANDARD_EVENT = "standard_event"
    CHANGE_EVENT = "change_event"
    CUSTOM_CHANNEL = "custom_channel"
    MONITORING = "monitoring"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def cometd_only(self) -> bool:
        """PushTopics and generic streaming are not served by the Pub/Sub API."""
        return self in (Kind.PUSH_TOPIC, Kind.GENERIC)


_KIND_LABELS = {
    Kind.PUSH_TOPIC: "PushTopics",
    Kind.GENERIC: "Generic streaming",
    Kind.PLATFORM_EVENT: "Platform events",
    Kind.STANDARD_EVENT: "Standard platform events",
    Kind.CHANGE_EVENT: "Change Data Capture",
    Kind.CUSTOM_CHANNEL: "Custom channels",
    Kind.MONITORING: "Real-time event monitoring",
}
KIND_ORDER = {kind: i for i, kind in enumerate(Kind)}


@dataclass(frozen=True)
class Channel:
    """One channel one can subscribe to. ``None`` in a flag means "not known" (the source
    that says it was refused)."""

    kind: Kind
    channel: str  # /topic/X, /u/X, /event/X__e, /data/XChangeEvent, /data/X__chn, ...
    label: str
    description: str = ""
    detail: str = ""  # e.g. a PushTopic's query and API version
    active: bool | None = None  # PushTopic IsActive
    selected: bool | None = None  # CDC entity selected on the standard ChangeEvents channel
    enabled: bool | None = None  # monitoring stream enabled (RealTimeEvent)
    members: tuple[str, ...] = ()  # custom channel members (AccountChangeEvent, X__e)
    cometd: bool = True  # a CometD client can subscribe
    pubsub: bool = True  # a Pub/Sub API client can subscribe (never PushTopic, generic)

    @property
    def badges(self) -> tuple[str, ...]:
        out = []
        if self.active is False:
            out.append("inactive")
        if self.selected is not None:
            out.append("selected" if self.selected else "not selected")
        if self.enabled is not None:
            out.append("enabled" if self.enabled else "disabled")
        if not self.cometd:
            out.append("Pub/Sub only")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["members"] = list(self.members)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Channel:
        return cls(
            kind=Kind(data["kind"]),
            channel=_text(data, "channel"),
            label=_text(data, "label"),
            description=_text(data, "description", ""),
            detail=_text(data, "detail", ""),
            active=_flag(data, "active"),
            selected=_flag(data, "selected"),
            enabled=_flag(data, "enabled"),
            members=tuple(str(m) for m in data.get("members") or ()),
            cometd=bool(data.get("cometd", True)),
            pubsub=bool(data.get("pubsub", True)),
        )


@dataclass(frozen=True)
class SourceStatus:
    """How one call of discovery fared. ``hint`` names what is missing when Salesforce
    refused for lack of a permission (``permission`` True); ``error`` is Salesforce's
    own words (or the network's)."""

    source: str
    label: str
    ok: bool
    count: int = 0
    error: str | None = None
    hint: str | None = None
    permission: bool = False

    @property
    def text(self) -> str:
        if self.ok:
            return f"{self.label}: {self.count} found"
        if self.hint:
            return f"{self.label}: {self.hint} ({self.error})"
        return f"{self.label}: failed ({self.error})"


@dataclass(frozen=True)
class Discovery:
    """Every channel found, and one status per source."""

    instance_url: str
    api_version: str
    discovered_at: str  # ISO 8601, UTC
    channels: tuple[Channel, ...] = ()
    sources: tuple[SourceStatus, ...] = field(default_factory=tuple)

    def of_kind(self, kind: Kind) -> list[Channel]:
        return [c for c in self.channels if c.kind is kind]

    def by_kind(self) -> dict[Kind, list[Channel]]:
        """Kinds in reading order, each with its channels (empty kinds included)."""
        return {kind: self.of_kind(kind) for kind in Kind}

    def find(self, channel: str) -> Channel | None:
        return next((c for c in self.channels if c.channel == channel), None)

    def source(self, name: str) -> SourceStatus | None:
        return next((s for s in self.sources if s.source == name), None)

    @property
    def failed(self) -> list[SourceStatus]:
        return [s for s in self.sources if not s.ok]

    def for_transport(self, transport: str) -> Discovery:
        """Only what a ``cometd`` or ``pubsub`` client can subscribe to."""
        if transport not in ("cometd", "pubsub"):
            raise ValueError("transport is 'cometd' or 'pubsub'")
        keep = [c for c in self.channels if (c.cometd if transport == "cometd" else c.pubsub)]
        return replace(self, channels=tuple(keep))

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "format": FORMAT,
                "instance_url": self.instance_url,
                "api_version": self.api_version,
                "discovered_at": self.discovered_at,
                "channels": [c.to_dict() for c in self.channels],
                "sources": [asdict(s) for s in self.sources],
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Discovery:
        """A cached discovery; ValueError (saying what is wrong) for anything else."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not a discovery cache: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a discovery cache of format {FORMAT}")
        try:
            return cls(
                instance_url=_text(data, "instance_url"),
                api_version=_text(data, "api_version"),
                discovered_at=_text(data, "discovered_at"),
                channels=tuple(Channel.from_dict(c) for c in _list(data, "channels")),
                sources=tuple(_source(s) for s in _list(data, "sources")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a discovery cache: {exc!r}") from None


def sort_channels(channels: Iterable[Channel]) -> tuple[Channel, ...]:
    """Kinds in reading order; within a kind by label, then channel."""
    return tuple(sorted(channels, key=lambda c: (KIND_ORDER[c.kind], c.label.lower(), c.channel)))


def _text(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise TypeError(f"{key} is not text")
    return value


def _flag(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"{key} is not true, false or null")
    return value


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError(f"{key} is not a list of objects")
    return value


def _source(data: dict[str, Any]) -> SourceStatus:
    error, hint = data.get("error"), data.get("hint")
    return SourceStatus(
        source=_text(data, "source"),
        label=_text(data, "label"),
        ok=bool(data["ok"]),
        count=int(data.get("count", 0)),
        error=error if isinstance(error, str) else None,
        hint=hint if isinstance(hint, str) else None,
        permission=bool(data.get("permission", False)),
    )
