"""Synthetic load: publish many events of a chosen size on any channel kind, fast.

Used by ``POST /__emulator/generate``, the benchmarks and the soak tests. Events are built
and serialized once each; the loop yields every chunk so that deliveries proceed meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from . import shapes
from .channels import ChannelKind, classify, split_channel
from .org import ChannelError, Org

CHUNK = 1000


Publish = Callable[[int, str], Any]  # (sequence number, filler) -> the event published


def _builder(org: Org, channel: str) -> tuple[ChannelKind, Publish]:
    """A function that publishes one event on ``channel``; and the channel kind."""
    kind = classify(channel)
    base, _ = split_channel(channel)
    if kind is None or base != channel:
        raise ChannelError(f"400::Cannot generate events on {channel}")
    name = base.split("/", 2)[2]
    return kind, _BUILDERS[kind](org, base, name)


def _push_topic(org: Org, base: str, name: str) -> Publish:
    sobject = org.ensure_topic(name).parsed.sobject

    def push(i: int, filler: str) -> Any:
        fields = {"Id": org.ids.for_object(sobject), "Name": f"Load {i}", "Description": filler}
        return org._publish(
            base,
            ChannelKind.PUSH_TOPIC,
            lambda rid, ms: shapes.pushtopic_event(base, rid, ms, "created", fields),
            fields=fields,
        )

    return push


def _generic(org: Org, base: str, name: str) -> Publish:
    org.create_streaming_channel(base)
    return lambda i, filler: org.publish_generic(base, f"{i}:{filler}")


def _platform_event(org: Org, base: str, name: str) -> Publish:
    org.platform_events.add(name)
    user_id = _user_id(org)
    return lambda i, filler: org._publish(
        base,
        ChannelKind.PLATFORM_EVENT,
        lambda rid, ms: shapes.platform_event(
            base, rid, ms, user_id, {"Sequence__c": i, "Message__c": filler}
        ),
    )


def _monitoring(org: Org, base: str, name: str) -> Publish:
    return lambda i, filler: org.publish_monitoring(
        name,
        {
            "Username": "load@sfmonitor.example",
            "SourceIp": "10.0.0.1",
            "Status": "Success",
            "Sequence": i,
            "AdditionalInfo": filler,
        },
    )


def _change_event(org: Org, base: str, name: str) -> Publish:
    entity = org.cdc_entity_of(name) or "Account"
    org.cdc_entities.add(entity)
    with_uuid = org.config.cdc_event_uuid
    user_id = _user_id(org)

    def cdc(i: int, filler: str) -> Any:
        ms = org.clock.now_ms()
        header = {
            "entityName": entity,
            "recordIds": [org.ids.for_object(entity)],
            "changeType": "UPDATE",
            "changeOrigin": "",
            "transactionKey": str(uuid.UUID(int=i, version=4)),
            "sequenceNumber": 1,
            "commitTimestamp": ms,
            "commitNumber": i,
            "commitUser": user_id,
            "changedFields": ["Description"],
            "diffFields": [],
            "nulledFields": [],
        }
        return org._publish(
            base,
            ChannelKind.CHANGE_EVENT,
            lambda rid, _ms: shapes.change_event(
                base, rid, header, {"Description": filler}, with_uuid
            ),
            created_ms=ms,
        )

    return cdc


def _user_id(org: Org) -> str:
    """The publishing user: the org's first."""
    return next(iter(org.users.values())).user_id


_BUILDERS: dict[ChannelKind, Callable[[Org, str, str], Publish]] = {
    ChannelKind.PUSH_TOPIC: _push_topic,
    ChannelKind.GENERIC: _generic,
    ChannelKind.PLATFORM_EVENT: _platform_event,
    ChannelKind.MONITORING: _monitoring,
    ChannelKind.CHANGE_EVENT: _change_event,
}


def _filler_length(org: Org, channel: str, payload_bytes: int) -> int:
    """How many filler characters make an event of about ``payload_bytes`` in total."""
    probe = Org(org.config, org.clock)
    _, publish = _builder(probe, channel)
    size = len(publish(0, "").body)
    return max(0, payload_bytes - size)


async def generate(org: Org, channel: str, count: int, payload_bytes: int = 512) -> int:
    """Publish ``count`` events of about ``payload_bytes`` each on ``channel``."""
    if count < 0 or count > 10_000_000:
        raise ValueError("count must be between 0 and 10,000,000")
    _, publish = _builder(org, channel)
    filler = "x" * _filler_length(org, channel, payload_bytes)
    for start in range(0, count, CHUNK):
        for i in range(start, min(count, start + CHUNK)):
            publish(i, filler)
        await asyncio.sleep(0)
    return count
