"""What an org has set up for streaming, beyond the channels' event logs: platform event
definitions (fields, labels), standard events, the objects that have change events, custom
channels (``PlatformEventChannel``) and their members (``PlatformEventChannelMember``), and
real-time event monitoring streams (``RealTimeEvent``).

Channel discovery reads all of it through the REST query, Tooling query and describe
resources; a publish by REST is checked against the event's fields. Members of the standard
``ChangeEvents`` channel are not stored: they are the org's selected CDC entities
(``Org.cdc_entities``), so that every way of selecting an entity stays one truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .avro_schemas import EVENT_FIELDS
from .channels import MONITORING_STREAMS, ChannelKind, RetainedEvent
from .ids import IdFactory

if TYPE_CHECKING:
    from .org import Org

# Standard platform events the emulator's orgs have (Salesforce publishes them itself).
STANDARD_EVENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "BatchApexErrorEvent": (
        ("AsyncApexJobId", "string"), ("ExceptionType", "string"), ("Message", "string"),
        ("Phase", "string"), ("StackTrace", "string"), ("JobScope", "textarea"),
        ("DoesExceedJobScopeMaxLength", "boolean"), ("RequestId", "string"),
    ),
    "PlatformStatusAlertEvent": (
        ("ApiErrorCode", "string"), ("ComponentName", "string"), ("EventDate", "datetime"),
        ("ServiceName", "string"), ("Subject", "string"), ("RequestId", "string"),
    ),
    "AssetTokenEvent": (
        ("AssetId", "reference"), ("DeviceId", "string"), ("Name", "string"),
        ("Expiration", "datetime"), ("UserId", "reference"),
    ),
    "FlowExecutionErrorEvent": (
        ("FlowApiName", "string"), ("ErrorMessage", "string"), ("ElementApiName", "string"),
        ("EventDate", "datetime"), ("InterviewGuid", "string"),
    ),
}  # fmt: skip

# RealTimeEvent also lists each monitoring event's storage object (the API 46+ names of
# the old streams, and "...Store" objects); discovery must leave those out (SIR #859).
STORAGE_EVENTS = ("LoginEvent", "LogoutEvent", "ApiEvent", "ApiAnomalyEventStore")


def label_of(name: str) -> str:
    """``Order_Placed__e`` -> ``Order Placed``; ``LoginEventStream`` -> ``Login Event Stream``."""
    base = name.split("__")[0] if name.count("__") <= 1 else name.rsplit("__", 1)[0]
    if "_" in base:
        return base.replace("_", " ")
    out = ""
    for i, ch in enumerate(base):
        if ch.isupper() and i and not base[i - 1].isupper():
            out += " "
        out += ch
    return out


@dataclass
class FieldDef:
    """One field of a platform event as describe shows it."""

    name: str
    type: str  # string, textarea, double, int, boolean, date, datetime, picklist, reference
    label: str = ""
    required: bool = False  # createable, not nillable and not defaulted on create
    length: int = 255
    precision: int = 18
    scale: int = 2
    default_formula: str | None = None  # Salesforce's text: "'EU'", "true", "42"
    picklist: tuple[str, ...] = ()
    help: str = ""


@dataclass
class EventDef:
    """A platform event object: custom (``__e``) or standard."""

    name: str
    label: str
    fields: list[FieldDef] = field(default_factory=list)
    standard: bool = False
    key_prefix: str = "e00"

    def field(self, name: str) -> FieldDef | None:
        lower = name.lower()
        return next((f for f in self.fields if f.name.lower() == lower), None)


@dataclass
class CustomChannel:
    """A ``PlatformEventChannel`` (Tooling API): ``/data/<Dev>__chn`` or ``/event/<Dev>__chn``."""

    id: str
    developer_name: str
    label: str
    channel_type: str  # "data" or "event"

    @property
    def full_name(self) -> str:
        return f"{self.developer_name}__chn"

    @property
    def channel(self) -> str:
        return f"/{self.channel_type}/{self.full_name}"


@dataclass
class ChannelMember:
    """A ``PlatformEventChannelMember``: one entity (``AccountChangeEvent``, ``X__e``) on a
    channel (``ChangeEvents`` or ``X__chn``)."""

    id: str
    event_channel: str
    selected_entity: str
    filter_expression: str | None = None

    @property
    def developer_name(self) -> str:
        # Salesforce's form: ChangeEvents_AccountChangeEvent, MyChannel_chn_AccountChangeEvent
        return f"{self.event_channel.replace('__', '_')}_{self.selected_entity}"


@dataclass
class RealTimeEvent:
    """A ``RealTimeEvent`` row: is this monitoring event (stream or storage) enabled?"""

    id: str
    entity_name: str
    enabled: bool


def _event_def(
    name: str, fields: Iterable[tuple[str, str]], required: Iterable[str] = ()
) -> EventDef:
    must = set(required)
    defs = [
        FieldDef(n, "double" if k == "double" else k, label_of(n), required=n in must)
        for n, k in fields
    ]
    return EventDef(name, label_of(name), defs)


class Catalog:
    """The setup records of one org (see the module docstring)."""

    def __init__(self, ids: IdFactory) -> None:
        self.ids = ids
        self.events: dict[str, EventDef] = {}
        for name, fields in EVENT_FIELDS.items():
            # Order_Placed__e needs its order number, as a real definition would
            self.events[name] = _event_def(name, fields, ("Order_Number__c",))
        for name, fields in STANDARD_EVENTS.items():
            std = _event_def(name, fields)
            std.standard, std.key_prefix = True, "0Xx"
            self.events[name] = std
        self.cdc_labels: dict[str, str] = {}  # entity -> label, for capable entities
        self.cdc_capable: set[str] = set()  # entities that have a change event object
        self.channels: dict[str, CustomChannel] = {}  # by developer name
        self.members: list[ChannelMember] = []  # members of custom channels
        self._standard_member_ids: dict[str, str] = {}
        self.realtime: dict[str, RealTimeEvent] = {
            name: RealTimeEvent(self._rt_id(), name, True) for name in sorted(MONITORING_STREAMS)
        }
        self.channel_descriptions: dict[str, str] = {}  # generic channel -> description

    def _rt_id(self) -> str:
        return self.ids.new("0Rt")

    # --- definitions -----------------------------------------------------------------------

    def define_event(self, event: EventDef) -> None:
        self.events[event.name] = event

    def add_cdc_entity(self, entity: str, label: str | None = None) -> None:
        """An entity that has a change event (selectable for CDC)."""
        self.cdc_capable.add(entity)
        self.cdc_labels[entity] = label or label_of(entity)

    def add_channel(self, developer_name: str, channel_type: str, label: str = "") -> CustomChannel:
        if channel_type not in ("data", "event"):
            raise ValueError("channel_type must be 'data' or 'event'")
        chn = self.channels.get(developer_name)
        if chn is None:
            chn = CustomChannel(
                self.ids.new("0YL"), developer_name, label or label_of(developer_name), channel_type
            )
            self.channels[developer_name] = chn
        return chn

    def add_member(self, developer_name: str, selected_entity: str) -> ChannelMember:
        chn = self.channels[developer_name]
        member = ChannelMember(self.ids.new("0v8"), chn.full_name, selected_entity)
        self.members.append(member)
        return member

    def set_realtime(self, entity_name: str, enabled: bool) -> None:
        row = self.realtime.get(entity_name)
        if row is None:
            self.realtime[entity_name] = RealTimeEvent(self._rt_id(), entity_name, enabled)
        else:
            row.enabled = enabled

    # --- look-ups --------------------------------------------------------------------------

    def all_members(self, org: Org) -> list[ChannelMember]:
        """Standard-channel members (the selected CDC entities), then custom ones."""
        out = []
        for entity in sorted(org.cdc_entities):
            event_name = org.cdc_channel_of(entity).split("/")[-1]
            mid = self._standard_member_ids.get(entity)
            if mid is None:
                mid = self._standard_member_ids[entity] = self.ids.new("0v8")
            out.append(ChannelMember(mid, "ChangeEvents", event_name))
        return out + self.members

    def custom_channel(self, base: str) -> CustomChannel | None:
        """The custom channel subscribed to as ``base`` (``/data/X__chn``), if any."""
        name = base.rsplit("/", 1)[-1]
        if not name.endswith("__chn"):
            return None
        chn = self.channels.get(name[: -len("__chn")])
        return chn if chn is not None and chn.channel == base else None

    def channels_with(self, selected_entity: str, channel_type: str) -> list[CustomChannel]:
        names = {m.event_channel for m in self.members if m.selected_entity == selected_entity}
        return [
            c
            for c in self.channels.values()
            if c.full_name in names and c.channel_type == channel_type
        ]


def fan_out_hook(org: Org) -> Callable[[str, ChannelKind, RetainedEvent, Any], None]:
    """A publish hook that copies each event of a member entity onto its custom channels
    (with the custom channel's own replay id), as a subscriber of ``/data/X__chn`` sees it."""

    def hook(base: str, kind: ChannelKind, event: RetainedEvent, message: Any) -> None:
        name = base.rsplit("/", 1)[-1]
        if name.endswith("__chn") or name == "ChangeEvents" or not isinstance(message, dict):
            return
        if kind is ChannelKind.CHANGE_EVENT:
            channel_type = "data"
        elif kind is ChannelKind.PLATFORM_EVENT:
            channel_type = "event"
        else:
            return
        for chn in org.catalog.channels_with(name, channel_type):
            target = chn.channel

            def build(rid: int, ms: int, ch: str = target) -> dict[str, Any]:
                data = dict(message.get("data") or {})
                data["event"] = {**(data.get("event") or {}), "replayId": rid}
                return {**message, "channel": ch, "data": data}

            org._publish(target, kind, build, created_ms=event.created_ms)

    return hook
