"""Events of every kind, shaped as Salesforce sends them (reference §3), for store tests."""

from __future__ import annotations

from typing import Any

from sfmonitor.streaming import StreamEvent

T0 = 1_764_300_000_000  # ms; 2025-11-28T03:20:00Z


def iso(ms: int) -> str:
    from sfmonitor.timefmt import iso_from_ms

    return iso_from_ms(ms)


def push_topic(
    rid: int, name: str = "Acme Corp", ms: int = T0, typ: str = "updated"
) -> dict[str, Any]:
    return {
        "channel": "/topic/Accounts",
        "data": {
            "event": {"createdDate": iso(ms), "replayId": rid, "type": typ},
            "sobject": {"Id": "001xx000003DGb2AAG", "Name": name},
        },
    }


def change_event(
    rid: int, change: str = "UPDATE", ms: int = T0, amount: float = 10
) -> dict[str, Any]:
    return {
        "channel": "/data/ChangeEvents",
        "data": {
            "schema": "s1",
            "payload": {
                "ChangeEventHeader": {
                    "entityName": "Opportunity",
                    "recordIds": ["006xx000001Sv6tAAC"],
                    "changeType": change,
                    "changedFields": ["Amount"],
                    "commitTimestamp": ms,
                },
                "Amount": amount,
            },
            "event": {"replayId": rid},
        },
    }


def platform_event(rid: int, uuid: str, amount: float = 5, ms: int = T0) -> dict[str, Any]:
    return {
        "channel": "/event/Order_Placed__e",
        "data": {
            "schema": "s2",
            "payload": {"CreatedDate": iso(ms), "Amount__c": amount, "Region__c": "EMEA"},
            "event": {"replayId": rid, "EventUuid": uuid},
        },
    }


def event(message: dict[str, Any], received_ms: int = T0 + 5) -> StreamEvent:
    return StreamEvent.from_message(message, received_at=received_ms / 1000)
