"""``GET /services/data/vXX.X/query`` and ``…/tooling/query`` over the objects channel
discovery reads, with Salesforce's paging (``nextRecordsUrl``, ``…/query/<locator>-<n>``),
its permission refusals and the ``MALFORMED_QUERY`` trap of FullName/Metadata.

- Data API: ``PushTopic``, ``StreamingChannel``.
- Tooling API: ``PlatformEventChannel``, ``PlatformEventChannelMember``, ``RealTimeEvent``;
  querying them takes "View Setup and Configuration". A user without it gets
  ``INVALID_TYPE … is not supported`` (what users report, e.g. Salesforce Inspector Reloaded
  #1310, OrgCheck #144) or, by setting, ``INSUFFICIENT_ACCESS``.
- Selecting ``FullName`` or ``Metadata`` with two or more rows in the result answers
  ``MALFORMED_QUERY`` (Salesforce Inspector Reloaded #1323).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import select as soql
from .config import User
from .ids import KEY_PREFIXES

if TYPE_CHECKING:
    from .org import Org

Row = dict[str, Any]
MAX_CURSORS = 200  # open query locators kept (Salesforce expires them after 15 minutes)

PUSH_TOPIC_FIELDS = (
    "Id", "Name", "Query", "ApiVersion", "IsActive", "NotifyForFields",
    "NotifyForOperationCreate", "NotifyForOperationUpdate", "NotifyForOperationDelete",
    "NotifyForOperationUndelete", "Description",
)  # fmt: skip
CHANNEL_FIELDS = (
    "Id", "DeveloperName", "MasterLabel", "ChannelType", "Language", "NamespacePrefix",
    "FullName", "Metadata",
)  # fmt: skip
MEMBER_FIELDS = (
    "Id", "DeveloperName", "EventChannel", "SelectedEntity", "FilterExpression",
    "NamespacePrefix", "FullName", "Metadata",
)  # fmt: skip


@dataclass(frozen=True)
class QueryObject:
    name: str
    fields: tuple[str, ...]
    tooling: bool
    setup: bool  # needs View Setup and Configuration
    rows: Callable[[Org], list[Row]]


def _push_topics(org: Org) -> list[Row]:
    out = []
    for topic in org.push_topics.values():
        row = topic.record()
        row.pop("attributes", None)
        out.append(row)
    return out


def _streaming_channels(org: Org) -> list[Row]:
    describe = org.catalog.channel_descriptions
    return [
        {"Id": rid, "Name": name, "Description": describe.get(name)}
        for rid, name in org.streaming_channels.items()
    ]


def _custom_channels(org: Org) -> list[Row]:
    return [
        {
            "Id": c.id,
            "DeveloperName": c.developer_name,
            "MasterLabel": c.label,
            "ChannelType": c.channel_type,
            "Language": "en_US",
            "NamespacePrefix": None,
            "FullName": c.full_name,
            "Metadata": {"channelType": c.channel_type, "label": c.label},
        }
        for c in org.catalog.channels.values()
    ]


def _members(org: Org) -> list[Row]:
    return [
        {
            "Id": m.id,
            "DeveloperName": m.developer_name,
            "EventChannel": m.event_channel,
            "SelectedEntity": m.selected_entity,
            "FilterExpression": m.filter_expression,
            "NamespacePrefix": None,
            "FullName": m.developer_name,
            "Metadata": {
                "eventChannel": m.event_channel,
                "selectedEntity": m.selected_entity,
                "filterExpression": m.filter_expression,
            },
        }
        for m in org.catalog.all_members(org)
    ]


def _realtime(org: Org) -> list[Row]:
    return [
        {
            "Id": r.id,
            "DurableId": r.entity_name,
            "EntityName": r.entity_name,
            "IsEnabled": r.enabled,
        }
        for r in org.catalog.realtime.values()
    ]


OBJECTS = {
    o.name.lower(): o
    for o in (
        QueryObject("PushTopic", PUSH_TOPIC_FIELDS, False, False, _push_topics),
        QueryObject(
            "StreamingChannel", ("Id", "Name", "Description"), False, False, _streaming_channels
        ),
        QueryObject("PlatformEventChannel", CHANNEL_FIELDS, True, True, _custom_channels),
        QueryObject("PlatformEventChannelMember", MEMBER_FIELDS, True, True, _members),
        QueryObject(
            "RealTimeEvent", ("Id", "DurableId", "EntityName", "IsEnabled"), True, True, _realtime
        ),
    )
}


def not_supported(name: str) -> soql.SoqlError:
    return soql.SoqlError(
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your WSDL "
        "or the describe call for the appropriate names.",
    )


INSUFFICIENT_ACCESS = (
    "You do not have the level of access necessary to perform the operation you requested. "
    "Please contact the owner of the record or your administrator if access is necessary."
)


@dataclass
class _Cursor:
    records: list[Row]
    tooling: bool
    entity: str
    username: str


class QueryService:
    """Runs queries for one org and keeps their open locators."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._locators = itertools.count(1)

    def query(
        self, q: str, *, tooling: bool, user: User, version: str, batch: int | None = None
    ) -> tuple[Any, int]:
        """(body, HTTP status) of a query: the first page, or Salesforce's error list."""
        try:
            records, entity = self._run(q, tooling, user, version)
        except soql.SoqlError as exc:
            status = 403 if exc.code == "INSUFFICIENT_ACCESS" else 400
            return [{"message": exc.message, "errorCode": exc.code}], status
        cursor = _Cursor(records, tooling, entity, user.username)
        return self._page(cursor, self._new_locator(), 0, version, batch), 200

    def more(
        self, locator: str, *, tooling: bool, user: User, version: str, batch: int | None = None
    ) -> tuple[Any, int]:
        """A following page: ``locator`` is ``<id>-<offset>`` from ``nextRecordsUrl``."""
        key, _, offset = locator.rpartition("-")
        cursor = self.cursors.get(key)
        if cursor is None or not offset.isdigit() or cursor.username != user.username:
            return [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], 400
        if cursor.tooling != tooling:
            return [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], 400
        return self._page(cursor, key, int(offset), version, batch), 200

    def _run(self, q: str, tooling: bool, user: User, version: str) -> tuple[list[Row], str]:
        parsed = soql.parse(q)
        obj = OBJECTS.get(parsed.sobject.lower())
        if obj is None and self._is_record_type(parsed.sobject):
            raise soql.SoqlError(
                "MALFORMED_QUERY",
                "this emulator answers queries on PushTopic, StreamingChannel, Organization "
                "and (Tooling API) PlatformEventChannel, PlatformEventChannelMember and "
                "RealTimeEvent only",
            )
        hidden = {h.lower() for h in user.hidden_objects}
        if obj is None or obj.tooling != tooling or obj.name.lower() in hidden:
            raise not_supported(parsed.sobject)
        if obj.setup and not user.view_setup:
            if self.org.config.setup_refusal == "INSUFFICIENT_ACCESS":
                raise soql.SoqlError("INSUFFICIENT_ACCESS", INSUFFICIENT_ACCESS)
            raise not_supported(parsed.sobject)
        names, rows = soql.run(parsed, obj.rows(self.org), obj.fields, q)
        if len(rows) >= 2 and {f.lower() for f in parsed.fields} & {"fullname", "metadata"}:
            raise soql.SoqlError(
                "MALFORMED_QUERY",
                "When retrieving results with Metadata or FullName fields, the query "
                "qualifications must specify no more than one row for retrieval. "
                f"Result size: {len(rows)}",
            )
        base = f"/services/data/v{version}/{'tooling/' if tooling else ''}sobjects/{obj.name}"
        records = [
            {
                "attributes": {"type": obj.name, "url": f"{base}/{row.get('Id')}"},
                **{name: row.get(name) for name in names},
            }
            for row in rows
        ]
        return records, obj.name

    def _is_record_type(self, name: str) -> bool:
        lower = name.lower()
        known = {k.lower() for k in KEY_PREFIXES} | {
            r.sobject.lower() for r in self.org.records.values()
        }
        return lower in known or lower.endswith("__c")

    def _new_locator(self) -> str:
        return f"01gDn{next(self._locators):08d}AA"[:15]

    def _page(
        self, cursor: _Cursor, key: str, offset: int, version: str, batch: int | None
    ) -> dict[str, Any]:
        size = max(1, min(batch or 2000, self.org.config.query_page_size, 2000))
        page = cursor.records[offset : offset + size]
        end = offset + len(page)
        done = end >= len(cursor.records)
        body: dict[str, Any] = {}
        if cursor.tooling:
            body.update(size=len(cursor.records), entityTypeName=cursor.entity)
        body.update(totalSize=len(cursor.records), done=done)
        if done:
            self.cursors.pop(key, None)
            if cursor.tooling:
                body["queryLocator"] = None
        else:
            self.cursors[key] = cursor
            self.cursors.move_to_end(key)
            while len(self.cursors) > MAX_CURSORS:
                self.cursors.popitem(last=False)
            prefix = "tooling/" if cursor.tooling else ""
            body["nextRecordsUrl"] = f"/services/data/v{version}/{prefix}query/{key}-{end}"
            if cursor.tooling:
                body["queryLocator"] = f"{key}-{end}"
        body["records"] = page
        return body
