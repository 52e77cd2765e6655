"""The emulated org: users and tokens, channels and their retained events, CometD sessions,
records whose changes fire PushTopic and Change Data Capture events, and the org's limits.

This is plain state plus synchronous operations; the HTTP layer (``server``, ``bayeux``,
``rest``, ``oauth``) translates requests into calls on it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..timefmt import iso_from_ms
from . import shapes
from .catalog import Catalog, fan_out_hook
from .channels import ChannelKind, ChannelLog, RetainedEvent, classify, split_channel
from .clock import Clock
from .config import ConnectedApp, EmulatorConfig, User
from .ids import IdFactory, client_id, opaque_token, to18
from .sessions import Session, Subscription
from .soql import QueryError, TopicQuery, get_field, parse_topic_query

DEFAULT_PLATFORM_EVENTS = ("Low_Ink__e", "Order_Placed__e", "Demo_Event__e")
DEFAULT_CDC_ENTITIES = ("Account", "Contact", "Opportunity", "Lead", "Case")

# Allocation names as /limits reports them (reference §6).
ALLOCATION_OF_KIND = {
    ChannelKind.PUSH_TOPIC: "DailyDurableStreamingApiEvents",
    ChannelKind.GENERIC: "DailyDurableGenericStreamingApiEvents",
    ChannelKind.PLATFORM_EVENT: "DailyDeliveredPlatformEvents",
    ChannelKind.CHANGE_EVENT: "DailyDeliveredPlatformEvents",
}


class AuthInvalid(Exception):
    """The access token is unknown, expired or revoked."""


class ChannelError(Exception):
    """A subscribe that Salesforce refuses; the message is the Bayeux error string."""


@dataclass
class AccessToken:
    username: str
    client_id: str
    issued: float
    revoked: bool = False


@dataclass
class PushTopic:
    id: str
    name: str
    query: str
    parsed: TopicQuery
    api_version: str = "68.0"  # the newest; create_push_topic passes the version asked
    notify_create: bool = True
    notify_update: bool = True
    notify_delete: bool = True
    notify_undelete: bool = True
    notify_for_fields: str = "Referenced"
    description: str = ""
    is_active: bool = True

    def record(self) -> dict[str, Any]:
        return {
            "attributes": {"type": "PushTopic"},
            "Id": self.id,
            "Name": self.name,
            "Query": self.query,
            "ApiVersion": float(self.api_version),
            "IsActive": self.is_active,
            "NotifyForOperationCreate": self.notify_create,
            "NotifyForOperationUpdate": self.notify_update,
            "NotifyForOperationDelete": self.notify_delete,
            "NotifyForOperationUndelete": self.notify_undelete,
            "NotifyForFields": self.notify_for_fields,
            "Description": self.description,
        }

    def relevant_fields(self) -> set[str] | None:
        """Fields whose change fires an update notification (None = any field)."""
        select = {f.lower() for f in self.parsed.fields}
        where = {f.lower() for f in self.parsed.where_fields}
        mode = self.notify_for_fields.lower()
        if mode == "all":
            return None
        if mode == "select":
            return select
        if mode == "where":
            return where
        return select | where


@dataclass
class Record:
    sobject: str
    fields: dict[str, Any]
    deleted: bool = False


@dataclass
class Org:
    """All state of one emulated org."""

    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.ids = IdFactory()
        self.org_id = to18("00DDn0000000" + "0Ab")
        self.users: dict[str, User] = {}
        for user in self.config.users:
            self.add_user(user)
        self.apps: dict[str, ConnectedApp] = {a.client_id: a for a in self.config.apps}
        self.refresh_tokens: dict[str, tuple[str, str]] = dict(self.config.refresh_tokens)
        self.access_tokens: dict[str, AccessToken] = {}
        self.channels: dict[str, ChannelLog] = {}
        self.push_topics: dict[str, PushTopic] = {}  # by name
        self.streaming_channels: dict[str, str] = {}  # record id -> /u/ channel name
        self.platform_events: set[str] = set(DEFAULT_PLATFORM_EVENTS)
        self.cdc_entities: set[str] = set(DEFAULT_CDC_ENTITIES)
        self.records: dict[str, Record] = {}
        self.sessions: dict[str, Session] = {}
        self.subscribers: dict[str, list[tuple[Session, Subscription]]] = {}
        self.delivered: dict[str, int] = {}
        self._delivery_day = self._day()
        self.exhausted: set[str] = set()  # allocations forced to zero by a fault
        self.token_requests = 0
        self.handshakes = 0
        # called with (channel, kind, event, message) for every published event (Pub/Sub)
        self.publish_hooks: list[Callable[[str, ChannelKind, RetainedEvent, Any], None]] = []
        # what discovery finds (issue 16): custom channels, members, event definitions...
        self.catalog = Catalog(self.ids)
        self.platform_events.update(n for n, e in self.catalog.events.items() if e.standard)
        self.api_requests = 0  # REST calls, for DailyApiRequests
        self._published_hour = (self._hour(), 0)  # (hour, platform events published in it)
        self.publish_hooks.append(fan_out_hook(self))
        self.publish_hooks.append(self._count_published)
        if self.config.catalog != "basic":
            from .catalog_seed import seed

            seed(self, self.config.catalog)

    # --- users and tokens ----------------------------------------------------------------

    def add_user(self, user: User) -> None:
        if not user.user_id:
            user.user_id = self.ids.new("005")
        self.users[user.username] = user

    def issue_token(self, username: str, client: str) -> str:
        token = f"{self.org_id[:15]}!{opaque_token(96)}"
        self.access_tokens[token] = AccessToken(username, client, self.clock.now())
        return token

    def check_token(self, token: str | None) -> str:
        """The username an access token belongs to; AuthInvalid when it is not usable."""
        info = self.access_tokens.get(token or "")
        if info is None or info.revoked:
            raise AuthInvalid()
        ttl = self.config.access_token_ttl
        if ttl is not None and self.clock.now() - info.issued > ttl:
            raise AuthInvalid()
        return info.username

    def revoke_tokens(self, username: str | None = None, refresh: bool = False) -> int:
        """Revoke access tokens (and refresh tokens when asked); returns how many."""
        n = 0
        for info in self.access_tokens.values():
            if not info.revoked and (username is None or info.username == username):
                info.revoked = True
                n += 1
        if refresh:
            for tok in [
                t for t, (u, _) in self.refresh_tokens.items() if username is None or u == username
            ]:
                del self.refresh_tokens[tok]
                n += 1
        return n

    # --- channels --------------------------------------------------------------------------

    def log_for(self, base: str, kind: ChannelKind) -> ChannelLog:
        log = self.channels.get(base)
        if log is None:
            retention = (
                self.config.retention_high_volume
                if kind.high_volume
                else self.config.retention_standard
            )
            log = ChannelLog(base, kind, retention, last_replay_id=self.config.replay_id_base)
            self.channels[base] = log
        return log

    def channel_exists(self, base: str, kind: ChannelKind) -> bool:
        name = base.split("/", 2)[2]
        if name.endswith("__chn"):
            return self.catalog.custom_channel(base) is not None
        if kind is ChannelKind.PUSH_TOPIC:
            topic = self.push_topics.get(name)
            return topic is not None and topic.is_active
        if kind is ChannelKind.GENERIC:
            return base in self.streaming_channels.values()
        if kind is ChannelKind.PLATFORM_EVENT:
            return name in self.platform_events
        if kind is ChannelKind.MONITORING:
            return True
        if name == "ChangeEvents":
            return True
        entity = self.cdc_entity_of(name)
        # an entity that has change events may be subscribed to even when not selected
        return entity in self.cdc_entities or entity in self.catalog.cdc_capable

    @staticmethod
    def cdc_entity_of(channel_name: str) -> str:
        """``AccountChangeEvent`` -> Account, ``Foo__ChangeEvent`` -> Foo__c."""
        if channel_name.endswith("__ChangeEvent"):
            return channel_name[: -len("__ChangeEvent")] + "__c"
        if channel_name.endswith("ChangeEvent"):
            return channel_name[: -len("ChangeEvent")]
        return ""

    @staticmethod
    def cdc_channel_of(entity: str) -> str:
        if entity.endswith("__c"):
            return f"/data/{entity[:-3]}__ChangeEvent"
        return f"/data/{entity}ChangeEvent"

    def create_push_topic(self, fields: dict[str, Any]) -> PushTopic:
        """Validate and store a PushTopic record; ValueError carries Salesforce's message."""
        name = str(fields.get("Name") or "")
        query = str(fields.get("Query") or "")
        if not name:
            raise ValueError("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]")
        if len(name) > 25:
            raise ValueError("STRING_TOO_LONG:Name: data value too large (max length=25)")
        if not query:
            raise ValueError("REQUIRED_FIELD_MISSING:Required fields are missing: [Query]")
        if len(query) > 1300:
            raise ValueError("STRING_TOO_LONG:Query: data value too large (max length=1300)")
        if name in self.push_topics:
            raise ValueError(
                "DUPLICATE_VALUE:duplicate value found: Name duplicates value "
                "on record with id: " + self.push_topics[name].id
            )
        try:
            parsed = parse_topic_query(query)
        except QueryError as exc:
            raise ValueError(f"INVALID_FIELD:{exc}") from None
        topic = PushTopic(
            id=self.ids.new("0IF"),
            name=name,
            query=query,
            parsed=parsed,
            api_version=str(fields.get("ApiVersion", self.latest_api_version)),
            notify_create=bool(fields.get("NotifyForOperationCreate", True)),
            notify_update=bool(fields.get("NotifyForOperationUpdate", True)),
            notify_delete=bool(fields.get("NotifyForOperationDelete", True)),
            notify_undelete=bool(fields.get("NotifyForOperationUndelete", True)),
            notify_for_fields=str(fields.get("NotifyForFields", "Referenced")),
            description=str(fields.get("Description", "")),
        )
        self.push_topics[name] = topic
        return topic

    def create_streaming_channel(self, name: str) -> str:
        """Create (or find) a generic ``/u/`` channel; returns its record id."""
        for rid, existing in self.streaming_channels.items():
            if existing == name:
                return rid
        if classify(name) is not ChannelKind.GENERIC:
            raise ValueError("FIELD_INTEGRITY_EXCEPTION:Name must start with /u/")
        rid = self.ids.new("0M6")
        self.streaming_channels[rid] = name
        return rid

    # --- publishing ----------------------------------------------------------------------

    def _publish(
        self,
        base: str,
        kind: ChannelKind,
        build: Callable[[int, int], dict[str, Any]],
        fields: dict[str, Any] | None = None,
        created_ms: int | None = None,
        event_uuid: str | None = None,
    ) -> RetainedEvent:
        """Assign a replay id, serialize once, retain, and queue to every subscriber."""
        log = self.log_for(base, kind)
        replay_id = log.next_replay_id()
        created = self.clock.now_ms() if created_ms is None else created_ms
        message = build(replay_id, created)
        event = RetainedEvent(
            replay_id,
            created,
            orjson.dumps(message),
            fields,
            message if fields is not None else None,
            event_uuid,
        )
        log.append(event)
        for hook in self.publish_hooks:
            hook(base, kind, event, message)
        subs = self.subscribers.get(base)
        if subs:
            self._deliver(kind, subs, [event])
        return event

    def _deliver(
        self,
        kind: ChannelKind,
        subs: Iterable[tuple[Session, Subscription]],
        events: list[RetainedEvent],
    ) -> None:
        allocation = ALLOCATION_OF_KIND.get(kind)
        for session, sub in subs:
            if sub.filters:
                bodies = [self._body_for(sub, e) for e in events if sub.matches(e.fields)]
            else:
                bodies = [e.body for e in events]
            if not bodies:
                continue
            session.queue.extend(bodies)
            if allocation:
                self._count_delivery(allocation, len(bodies))
            session.wake()

    def _body_for(self, sub: Subscription, event: RetainedEvent) -> bytes:
        if not self.config.filtered_channel_keeps_query or event.message is None:
            return event.body
        return orjson.dumps({**event.message, "channel": sub.channel})

    def publish_platform_event(
        self, name: str, fields: dict[str, Any], username: str | None = None
    ) -> RetainedEvent:
        channel = f"/event/{name}"
        user = self.users.get(username or "") or next(iter(self.users.values()))
        event_uuid = str(uuid.uuid4())
        return self._publish(
            channel,
            ChannelKind.PLATFORM_EVENT,
            lambda rid, ms: shapes.platform_event(
                channel, rid, ms, user.user_id, fields, event_uuid
            ),
            event_uuid=event_uuid,
        )

    def publish_generic(self, channel: str, payload: str) -> RetainedEvent:
        return self._publish(
            channel,
            ChannelKind.GENERIC,
            lambda rid, ms: shapes.generic_event(channel, rid, ms, payload),
        )

    def publish_monitoring(self, name: str, fields: dict[str, Any]) -> RetainedEvent:
        channel = f"/event/{name}"
        with_created = self.config.monitoring_created_date
        return self._publish(
            channel,
            ChannelKind.MONITORING,
            lambda rid, ms: shapes.monitoring_event(channel, rid, ms, fields, with_created),
        )

    def publish_change_event(
        self,
        entity: str,
        change_type: str,
        record_ids: list[str],
        fields: dict[str, Any],
        changed: list[str],
        username: str | None = None,
    ) -> list[RetainedEvent]:
        """Fire a CDC event on the entity channel and on /data/ChangeEvents."""
        user = self.users.get(username or "") or next(iter(self.users.values()))
        now = self.clock.now_ms()
        header = {
            "entityName": entity,
            "recordIds": record_ids,
            "changeType": change_type,
            "changeOrigin": f"com/salesforce/api/rest/{self.latest_api_version}",
            "transactionKey": str(uuid.uuid4()),  # Salesforce's form: 8-4-4-4-12 hex
            "sequenceNumber": 1,
            "commitTimestamp": now,
            "commitNumber": 10_000_000 + self.handshakes * 7 + len(self.records),
            "commitUser": user.user_id,
            "changedFields": changed if change_type == "UPDATE" else [],
            "diffFields": [],
            "nulledFields": [k for k, v in fields.items() if v is None],
        }
        body = {k: v for k, v in fields.items() if k not in ("Id",)}
        with_uuid = self.config.cdc_event_uuid
        out = []
        for channel in (self.cdc_channel_of(entity), "/data/ChangeEvents"):

            def build(rid: int, ms: int, ch: str = channel) -> dict[str, Any]:
                return shapes.change_event(ch, rid, header, body, with_uuid)

            out.append(self._publish(channel, ChannelKind.CHANGE_EVENT, build, created_ms=now))
        return out

    def publish_any(self, channel: str, data: Any) -> RetainedEvent:
        """Publish on any channel kind from a loose description (control API, scenarios)."""
        kind = classify(channel)
        base, _ = split_channel(channel)
        name = base.split("/", 2)[2] if kind else ""
        if kind is ChannelKind.GENERIC:
            self.create_streaming_channel(base)
            return self.publish_generic(
                base, data if isinstance(data, str) else orjson.dumps(data).decode()
            )
        fields = data if isinstance(data, dict) else {"Message__c": str(data)}
        if kind is ChannelKind.PLATFORM_EVENT:
            self.platform_events.add(name)
            return self.publish_platform_event(name, fields)
        if kind is ChannelKind.MONITORING:
            return self.publish_monitoring(name, fields)
        if kind is ChannelKind.PUSH_TOPIC:
            topic = self.ensure_topic(name)
            sobject = {
                "Id": fields.get("Id") or self.ids.for_object(topic.parsed.sobject),
                **fields,
            }
            return self._publish(
                base,
                kind,
                lambda rid, ms: shapes.pushtopic_event(base, rid, ms, "created", sobject),
                fields=sobject,
            )
        if kind is ChannelKind.CHANGE_EVENT:
            entity = self.cdc_entity_of(name) or "Account"
            self.cdc_entities.add(entity)
            rid_ = fields.get("Id") or self.ids.for_object(entity)
            return self.publish_change_event(entity, "CREATE", [rid_], fields, [])[0]
        raise ChannelError(f"400::Unsupported channel {channel}")

    def ensure_topic(self, name: str, sobject: str = "Account") -> PushTopic:
        topic = self.push_topics.get(name)
        if topic is None:
            topic = self.create_push_topic(
                {"Name": name, "Query": f"SELECT Id, Name, Description FROM {sobject}"}
            )
        return topic

    # --- records (REST DML) -----------------------------------------------------------------

    @property
    def latest_api_version(self) -> str:
        return self.config.api_versions[-1]

    def _user_id(self, username: str | None) -> str:
        user = self.users.get(username or "") or next(iter(self.users.values()))
        return user.user_id

    def _now_iso(self) -> str:
        """A record timestamp: Salesforce keeps them to the second (``...:45.000Z``)."""
        return iso_from_ms(self.clock.now_ms() // 1000 * 1000)

    def create_record(
        self, sobject: str, fields: dict[str, Any], username: str | None = None
    ) -> str:
        """A new record with Salesforce's system fields (creator, owner, times). Its CDC
        CREATE event carries every non-empty field and those system fields, except
        ``SystemModstamp`` (Change Event Body Fields; change events never carry it)."""
        rid = self.ids.for_object(sobject)
        user_id, now = self._user_id(username), self._now_iso()
        system = {
            "OwnerId": user_id,
            "CreatedDate": now,
            "CreatedById": user_id,
            "LastModifiedDate": now,
            "LastModifiedById": user_id,
            "SystemModstamp": now,
        }
        given = {k: v for k, v in fields.items() if k != "Id"}
        values = {"Id": rid, **given, **{k: v for k, v in system.items() if k not in given}}
        self.records[rid] = Record(sobject, values)
        self._fire_topics(sobject, "created", values, None, set(values))
        if sobject in self.cdc_entities:
            self.publish_change_event(
                sobject,
                "CREATE",
                [rid],
                {k: v for k, v in values.items() if v is not None and k != "SystemModstamp"},
                [],
                username,
            )
        return rid

    def update_record(self, rid: str, fields: dict[str, Any], username: str | None = None) -> None:
        """Change a record; its CDC UPDATE event carries the changed fields and
        ``LastModifiedDate`` (listed in ``changedFields`` too), and ``LastModifiedById``
        only when another user saved it last."""
        rec = self.records.get(rid)
        if rec is None or rec.deleted:
            raise KeyError(rid)
        before = dict(rec.fields)
        changed = {k for k, v in fields.items() if k != "Id" and before.get(k) != v}
        rec.fields.update({k: v for k, v in fields.items() if k != "Id"})
        if changed:
            user_id, now = self._user_id(username), self._now_iso()
            system = {"LastModifiedDate": now, "SystemModstamp": now}
            if before.get("LastModifiedById", user_id) != user_id:
                system["LastModifiedById"] = user_id
            rec.fields.update(system)
            changed |= set(system) - {"SystemModstamp"}
        self._fire_topics(rec.sobject, "updated", rec.fields, before, changed)
        if rec.sobject in self.cdc_entities and changed:
            names = sorted(changed)
            self.publish_change_event(
                rec.sobject, "UPDATE", [rid], {k: rec.fields[k] for k in names}, names, username
            )

    def delete_record(self, rid: str, username: str | None = None) -> None:
        rec = self.records.get(rid)
        if rec is None or rec.deleted:
            raise KeyError(rid)
        rec.deleted = True
        self._fire_topics(rec.sobject, "deleted", rec.fields, rec.fields, set())
        if rec.sobject in self.cdc_entities:
            self.publish_change_event(rec.sobject, "DELETE", [rid], {}, [], username)

    def _fire_topics(
        self,
        sobject: str,
        change: str,
        values: dict[str, Any],
        before: dict[str, Any] | None,
        changed: set[str],
    ) -> None:
        lower_changed = {c.lower() for c in changed}
        for topic in list(self.push_topics.values()):
            q = topic.parsed
            if not topic.is_active or q.sobject.lower() != sobject.lower():
                continue
            if change == "created" and not topic.notify_create:
                continue
            if change == "deleted" and not topic.notify_delete:
                continue
            if change == "updated":
                if not topic.notify_update:
                    continue
                relevant = topic.relevant_fields()
                if relevant is not None and not (relevant & lower_changed):
                    continue
            if not q.matches(values):
                continue
            sobject_fields = {f: get_field(values, f) for f in q.fields}
            sobject_fields["Id"] = values["Id"]
            base = f"/topic/{topic.name}"

            def build(
                rid: int, ms: int, b: str = base, s: dict[str, Any] = sobject_fields
            ) -> dict[str, Any]:
                return shapes.pushtopic_event(b, rid, ms, change, s)

            self._publish(base, ChannelKind.PUSH_TOPIC, build, fields=sobject_fields)

    # --- sessions ------------------------------------------------------------------------

    def active_sessions(self) -> int:
        return len(self.sessions)

    def new_session(self, username: str, browser: str) -> Session:
        now = time.monotonic()
        session = Session(client_id(), username, browser, now, now)
        self.sessions[session.client_id] = session
        self.handshakes += 1
        return session

    def session(self, cid: Any) -> Session | None:
        """The live session for a client id, expiring it first if its time ran out."""
        if not isinstance(cid, str):
            return None
        session = self.sessions.get(cid)
        if session is not None and self._overdue(session, time.monotonic()):
            self.end_session(session)
            return None
        return session

    def _overdue(self, session: Session, now: float) -> bool:
        holding = session.held is not None and not session.held.done()
        return not holding and now - session.last_reply > self.config.max_interval

    def end_session(self, session: Session) -> None:
        """Drop a session (expiry, disconnect, restart): its held poll is released."""
        session.expired = True
        self.sessions.pop(session.client_id, None)
        for sub in session.subscriptions.values():
            self._remove_subscriber(session, sub)
        session.subscriptions.clear()
        session.queue.clear()
        session.wake()

    def expire_overdue(self) -> int:
        now = time.monotonic()
        overdue = [s for s in self.sessions.values() if self._overdue(s, now)]
        for s in overdue:
            self.end_session(s)
        return len(overdue)

    def expire_all_sessions(self) -> int:
        sessions = list(self.sessions.values())
        for s in sessions:
            self.end_session(s)
        return len(sessions)

    def _remove_subscriber(self, session: Session, sub: Subscription) -> None:
        subs = self.subscribers.get(sub.base)
        if subs:
            self.subscribers[sub.base] = [(s, x) for s, x in subs if x is not sub]

    def subscribe(self, session: Session, channel: str, replay: Any) -> None:
        """Register a subscription and queue replayed events; ChannelError when refused."""
        kind = classify(channel)
        base, query = split_channel(channel)
        if kind is None:
            raise ChannelError(self.config.channel_missing_error.format(channel=channel))
        if channel in session.subscriptions:
            if self.config.resubscribe_replay != "replay" or replay is None:
                return  # CometD: subscribing twice in one session changes nothing
            self.unsubscribe(session, channel)  # "replay": start again from the new id
        if not self.channel_exists(base, kind):
            if kind is ChannelKind.GENERIC and self.config.generic_dynamic_channels:
                self.create_streaming_channel(base)
            else:
                raise ChannelError(self.config.channel_missing_error.format(channel=channel))
        filters: dict[str, str] = {}
        if query:
            if kind is not ChannelKind.PUSH_TOPIC:
                raise ChannelError(
                    f"400::Filtered subscriptions are supported only for PushTopic channels "
                    f"{{{channel}}}"
                )
            filters = self._topic_filters(base, query)
        allocation = ALLOCATION_OF_KIND.get(kind)
        if allocation and self.allocation_remaining(allocation) <= 0:
            raise ChannelError("403::Organization total events daily limit exceeded")
        replay_from = self._replay_value(channel, base, replay)
        log = self.log_for(base, kind)
        log.purge(self.clock.now_ms())
        backlog: list[RetainedEvent] = []
        if replay_from == -2:
            backlog = list(log.events)
        elif replay_from >= 0:
            if not log.replay_id_valid(
                replay_from,
                self.config.replay_id_check == "exact",
                self.config.accept_future_replay_id,
            ):
                raise ChannelError(self.config.replay_invalid_error.format(replay_id=replay_from))
            backlog = log.after(replay_from)
        elif replay_from != -1:
            raise ChannelError(self.config.replay_invalid_error.format(replay_id=replay_from))
        sub = Subscription(channel, base, kind, filters)
        session.subscriptions[channel] = sub
        self.subscribers.setdefault(base, []).append((session, sub))
        if backlog:
            self._deliver(kind, [(session, sub)], backlog)

    def _topic_filters(self, base: str, query: str) -> dict[str, str]:
        from urllib.parse import parse_qsl

        topic = self.push_topics[base.split("/", 2)[2]]
        allowed = {f.lower() for f in topic.parsed.fields}
        filters = dict(parse_qsl(query, keep_blank_values=True))
        unknown = [f for f in filters if f.lower() not in allowed]
        if unknown:
            raise ChannelError(
                f"400::Query fields {{{', '.join(unknown)}}} do not exist on the topic entity"
            )
        return filters

    def _replay_value(self, channel: str, base: str, replay: Any) -> int:
        """The replay id asked for by a subscribe's ext.replay map (-1 when absent)."""
        if replay is None:
            return -1
        if not isinstance(replay, dict):
            raise ChannelError(self.config.replay_invalid_error.format(replay_id=replay))
        value: Any = None
        found = False
        for key, v in replay.items():
            if key == channel or split_channel(str(key))[0] == base:
                value, found = v, True
                break
        if not found:
            rendered = "{" + ", ".join(f"{k}={v}" for k, v in replay.items()) + "}"
            raise ChannelError(
                self.config.replay_map_missing_error.format(channel=channel, replay_map=rendered)
            )
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ChannelError(self.config.replay_invalid_error.format(replay_id=value))
        try:
            return int(value)
        except ValueError:
            raise ChannelError(self.config.replay_invalid_error.format(replay_id=value)) from None

    def unsubscribe(self, session: Session, channel: str) -> None:
        sub = session.subscriptions.pop(channel, None)
        if sub is not None:
            self._remove_subscriber(session, sub)

    # --- limits --------------------------------------------------------------------------

    def _day(self) -> int:
        return int(self.clock.now() // 86400)

    def _count_delivery(self, allocation: str, n: int) -> None:
        day = self._day()
        if day != self._delivery_day:
            self._delivery_day = day
            self.delivered.clear()
        self.delivered[allocation] = self.delivered.get(allocation, 0) + n

    def allocation_max(self, allocation: str) -> int:
        return {
            "DailyDurableStreamingApiEvents": self.config.daily_pushtopic_events,
            "DailyDurableGenericStreamingApiEvents": self.config.daily_generic_events,
            "DailyDeliveredPlatformEvents": self.config.daily_platform_events,
        }[allocation]

    def allocation_remaining(self, allocation: str) -> int:
        if allocation in self.exhausted:
            return 0
        if self._day() != self._delivery_day:
            return self.allocation_max(allocation)
        return max(0, self.allocation_max(allocation) - self.delivered.get(allocation, 0))

    def session_over_allocation(self, session: Session) -> bool:
        for kind in session.subscribed_kinds():
            allocation = ALLOCATION_OF_KIND.get(kind)
            if allocation and self.allocation_remaining(allocation) <= 0:
                return True
        return False

    def _hour(self) -> int:
        return int(self.clock.now() // 3600)

    def _count_published(
        self, base: str, kind: ChannelKind, event: RetainedEvent, message: Any
    ) -> None:
        """Publish hook: platform events published this hour (HourlyPublishedPlatformEvents)."""
        if kind is not ChannelKind.PLATFORM_EVENT or base.endswith("__chn"):
            return
        hour, n = self._published_hour
        now = self._hour()
        self._published_hour = (now, (n if hour == now else 0) + 1)

    def published_this_hour(self) -> int:
        hour, n = self._published_hour
        return n if hour == self._hour() else 0

    def limits(self) -> dict[str, dict[str, int]]:
        api_max = self.config.daily_api_requests
        used_api = self.token_requests + self.api_requests
        out = {
            "DailyApiRequests": {"Max": api_max, "Remaining": max(0, api_max - used_api)},
            "DurableStreamingApiConcurrentClients": {
                "Max": self.config.max_concurrent_clients,
                "Remaining": max(0, self.config.max_concurrent_clients - len(self.sessions)),
            },
        }
        for allocation in sorted(set(ALLOCATION_OF_KIND.values())):
            out[allocation] = {
                "Max": self.allocation_max(allocation),
                "Remaining": self.allocation_remaining(allocation),
            }
        out.update(self._more_limits(out))
        return out

    def _more_limits(self, out: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        """The other streaming counters /limits/ reports (reference auth-and-discovery §3.2):
        API 36.0-and-earlier names mirror the durable ones; standard-volume events are a
        legacy allocation nothing here spends; the monthly entitlement is 0 without the
        add-on."""
        hourly = self.config.hourly_published_platform_events
        monthly = self.config.monthly_platform_events_entitlement
        return {
            "HourlyPublishedPlatformEvents": {
                "Max": hourly,
                "Remaining": max(0, hourly - self.published_this_hour()),
            },
            "HourlyPublishedStandardVolumePlatformEvents": {"Max": 1000, "Remaining": 1000},
            "DailyStandardVolumePlatformEvents": {"Max": 10000, "Remaining": 10000},
            "MonthlyPlatformEventsUsageEntitlement": {"Max": monthly, "Remaining": monthly},
            "DailyStreamingApiEvents": dict(out["DailyDurableStreamingApiEvents"]),
            "DailyGenericStreamingApiEvents": dict(out["DailyDurableGenericStreamingApiEvents"]),
            "StreamingApiConcurrentClients": dict(out["DurableStreamingApiConcurrentClients"]),
        }


async def sweep_forever(org: Org, every: float = 1.0) -> None:
    """Expire sessions whose client stopped polling (runs as a server background task)."""
    while True:
        await asyncio.sleep(every)
        org.expire_overdue()
