"""The calls discovery makes and how their answers become channels (reference
auth-and-discovery §3.1). Each builder takes what one or two calls answered, ``None`` for a
call that failed, and makes the most of what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .model import Channel, Kind
from .standard_events import STANDARD_EVENTS, is_monitoring_stream

Record = Mapping[str, Any]
VIEW_SETUP = "needs the View Setup and Configuration permission"


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    hint: str  # what a permission refusal means here
    soql: str | None = None  # None: describeGlobal
    tooling: bool = False


PUSH_TOPICS = Source(
    "pushtopics",
    "PushTopics",
    "needs read access to Push Topics",
    "SELECT Id, Name, Query, ApiVersion, IsActive, NotifyForFields, NotifyForOperationCreate, "
    "NotifyForOperationUpdate, NotifyForOperationDelete, NotifyForOperationUndelete, "
    "Description FROM PushTopic ORDER BY Name",
)
GENERIC = Source(
    "generic",
    "Generic streaming channels",
    "needs read access to Streaming Channels",
    "SELECT Id, Name, Description FROM StreamingChannel ORDER BY Name",
)
OBJECTS = Source(
    "objects",
    "Platform events and change events (describeGlobal)",
    "the user may not list the org's objects",
)
# Never FullName or Metadata here: with two or more rows the Tooling API answers
# MALFORMED_QUERY (Salesforce Inspector Reloaded #1323).
CUSTOM_CHANNELS = Source(
    "custom_channels",
    "Custom channels",
    VIEW_SETUP,
    "SELECT Id, DeveloperName, MasterLabel, ChannelType FROM PlatformEventChannel "
    "ORDER BY DeveloperName",
    tooling=True,
)
MEMBERS = Source(
    "channel_members",
    "Change Data Capture selection and channel members",
    VIEW_SETUP,
    "SELECT Id, DeveloperName, EventChannel, SelectedEntity FROM PlatformEventChannelMember",
    tooling=True,
)
MONITORING = Source(
    "monitoring",
    "Real-time event monitoring",
    VIEW_SETUP + " (and Event Monitoring in the org)",
    "SELECT Id, DurableId, EntityName, IsEnabled FROM RealTimeEvent",
    tooling=True,
)
SOURCES = (PUSH_TOPICS, GENERIC, OBJECTS, CUSTOM_CHANNELS, MEMBERS, MONITORING)
STANDARD_CHANNEL = "ChangeEvents"


def _text(record: Record, key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def push_topics(records: Iterable[Record]) -> list[Channel]:
    out = []
    for r in records:
        name = _text(r, "Name")
        if not name:
            continue
        version = r.get("ApiVersion")
        detail = _text(r, "Query") + (f" (API {version})" if version is not None else "")
        out.append(
            Channel(
                Kind.PUSH_TOPIC, f"/topic/{name}", name, _text(r, "Description"), detail,
                active=r.get("IsActive") is not False, pubsub=False,
            )
        )  # fmt: skip
    return out


def generic_channels(records: Iterable[Record]) -> list[Channel]:
    out = []
    for r in records:
        name = _text(r, "Name")  # already /u/<name>
        if name.startswith("/u/"):
            out.append(Channel(Kind.GENERIC, name, name[3:], _text(r, "Description"), pubsub=False))
    return out


def is_change_event(entry: Record) -> bool:
    if entry.get("associateEntityType") == "ChangeEvent":
        return True
    return _text(entry, "name").endswith("ChangeEvent")


def platform_events(entries: Iterable[Record]) -> list[Channel]:
    """Custom events (``__e``) and the standard events of the curated list."""
    out = []
    for e in entries:
        name, label = _text(e, "name"), _text(e, "label")
        if name.endswith("__e"):
            out.append(Channel(Kind.PLATFORM_EVENT, f"/event/{name}", label or name))
        elif name in STANDARD_EVENTS:
            std = STANDARD_EVENTS[name]
            out.append(
                Channel(
                    Kind.STANDARD_EVENT, f"/event/{name}", label or name, std.about,
                    cometd=std.cometd, pubsub=std.pubsub,
                )
            )  # fmt: skip
    return out


def selected_entities(members: Iterable[Record] | None) -> set[str] | None:
    """Change event names selected on the standard ChangeEvents channel."""
    if members is None:
        return None
    return {
        _text(m, "SelectedEntity")
        for m in members
        if _text(m, "EventChannel") == STANDARD_CHANNEL and _text(m, "SelectedEntity")
    }


def change_events(
    entries: Iterable[Record] | None, members: Iterable[Record] | None
) -> list[Channel]:
    """Every entity's change event channel (badged selected or not) and the standard
    channel of all selected ones. Without describeGlobal, the selected entities only."""
    selected = selected_entities(members)
    names: dict[str, str] = {}
    if entries is not None:
        names = {_text(e, "name"): _text(e, "label") for e in entries if is_change_event(e)}
    elif selected:
        names = {name: name for name in selected}
    out = [
        Channel(
            Kind.CHANGE_EVENT, f"/data/{name}", label or name,
            selected=None if selected is None else name in selected,
        )
        for name, label in names.items() if name
    ]  # fmt: skip
    if out or selected:
        count = "" if selected is None else f"{len(selected)} entities selected"
        out.append(
            Channel(
                Kind.CHANGE_EVENT, "/data/ChangeEvents", "All selected change events",
                "The standard channel: every entity selected for Change Data Capture", count,
            )
        )  # fmt: skip
    return out


def custom_channels(records: Iterable[Record], members: Iterable[Record] | None) -> list[Channel]:
    by_channel: dict[str, list[str]] = {}
    for m in members or ():
        by_channel.setdefault(_text(m, "EventChannel"), []).append(_text(m, "SelectedEntity"))
    out = []
    for r in records:
        dev, kind = _text(r, "DeveloperName"), _text(r, "ChannelType").lower()
        if not dev or kind not in ("data", "event"):
            continue
        full = f"{dev}__chn"
        found = tuple(sorted(by_channel.get(full, ())))
        detail = "members unknown" if members is None else f"{len(found)} members"
        what = "change events" if kind == "data" else "platform events"
        out.append(
            Channel(
                Kind.CUSTOM_CHANNEL, f"/{kind}/{full}", _text(r, "MasterLabel") or dev,
                f"Custom channel of {what}", detail, members=found,
            )
        )  # fmt: skip
    return out


def monitoring_streams(
    records: Iterable[Record] | None, entries: Iterable[Record] | None
) -> list[Channel]:
    """Streams from RealTimeEvent (badged enabled or not); when it was refused, the
    ``…EventStream`` objects of describeGlobal with "enabled" unknown."""
    labels = {_text(e, "name"): _text(e, "label") for e in entries or ()}
    if records is not None:
        rows = [(_text(r, "EntityName"), r.get("IsEnabled") is True) for r in records]
        found: list[tuple[str, bool | None]] = [(n, on) for n, on in rows if n]
    else:
        found = [(n, None) for n in labels if n.endswith("EventStream")]
    return [
        Channel(Kind.MONITORING, f"/event/{name}", labels.get(name) or name, enabled=enabled)
        for name, enabled in found
        if is_monitoring_stream(name)
    ]
