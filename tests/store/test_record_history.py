"""A record's history (CDC recordIds, PushTopic sobject.Id), scanned and through the
search index, exact and right after deletes; what a change event changed, with the values
before from earlier events of the same record."""

from __future__ import annotations

from typing import Any

import pytest

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile, search
from sfmonitor.store.record_history import (
    KINDS,
    LOOK_BACK,
    _phrase,
    changes_of,
    field_changes,
    history,
    record_ids,
)
from sfmonitor.store.records import EventRecord, raw_json
from tests.helpers.events import T0, event, iso, platform_event

R1, R2, R3 = "001xx000003DGb2AAG", "001xx000003DGb3AAG", "006xx000001Sv6tAAC"


def cdc(
    rid: int, ms: int, change: str, ids: list[str], fields: dict[str, Any], **header: Any
) -> dict[str, Any]:
    head = {
        "entityName": "Account",
        "recordIds": ids,
        "changeType": change,
        "changedFields": header.pop("changed", []),
        "commitTimestamp": ms,
        **header,
    }
    return {
        "channel": "/data/AccountChangeEvent",
        "data": {
            "schema": "s",
            "payload": {"ChangeEventHeader": head, **fields},
            "event": {"replayId": rid},
        },
    }


def topic(rid: int, ms: int, record: str, **fields: Any) -> dict[str, Any]:
    return {
        "channel": "/topic/Accounts",
        "data": {
            "event": {"createdDate": iso(ms), "replayId": rid, "type": "updated"},
            "sobject": {"Id": record, **fields},
        },
    }


def fill(store: CaptureStore, pid: int) -> dict[str, int]:
    """Events about R1, R2 and R3 of several kinds; ids of some by name."""
    messages = {
        "create": cdc(1, T0, "CREATE", [R1], {"Name": "Acme", "Phone": "1", "Amount__c": 5}),
        "topic1": topic(1, T0 + 10, R1, Name="Acme", Phone="1"),
        "other": cdc(2, T0 + 20, "UPDATE", [R3], {"Amount": 9}, changed=["Amount"]),
        "phone": cdc(3, T0 + 30, "UPDATE", [R1], {"Phone": "2"}, changed=["Phone"]),
        "merged": cdc(4, T0 + 40, "UPDATE", [R2, R1], {"Amount__c": 7}, changed=["Amount__c"]),
        "pe": platform_event(5, "u-5", ms=T0 + 45),
        "nulled": cdc(
            6,
            T0 + 50,
            "UPDATE",
            [R1],
            {"BillingAddress": {"City": "Paris"}},
            changed=["BillingAddress.City", "Phone"],
            nulledFields=["Phone"],
        ),
        "topic2": topic(2, T0 + 60, R1, Name="Acme Corp", Phone=None),
        "late": cdc(7, T0 + 5, "UPDATE", [R1], {"Amount__c": 6}, changed=["Amount__c"]),  # replayed
    }
    ids = {}
    for name, message in messages.items():
        store.ingest(pid, [event(message, received_ms=T0 + 100)])
        ids[name] = store.max_event_id()
    return ids


@pytest.fixture(params=["indexed", "scan"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def prepare(store: CaptureStore, mode: str) -> None:
    """ "indexed": the search index catches up with everything stored (it is only used
    when a query spans more than ``search.FEW_EVENTS`` events: the filler makes sure)."""
    if mode == "indexed":
        while store.index_pending(50_000):
            pass


def filler(store: CaptureStore, pid: int, many: bool = True) -> int:
    """An event naming R1 in a lookup field; with ``many``, enough other events for the
    search index to be used (fewer are always scanned)."""
    rows = [
        EventRecord(
            pid, "/topic/Other", "pushtopic", i, None, T0 - 10**6 + i, T0, "", "x", '{"data":{}}'
        )
        for i in range(1, search.FEW_EVENTS + 50 if many else 1)
    ]
    if rows:
        store.ingest_records(rows)
    lookup = cdc(10**6, T0 + 1, "UPDATE", [R3], {"AccountId": R1}, changed=["AccountId"])
    store.ingest(pid, [event(lookup)])
    return store.max_event_id()


def test_history_lists_a_records_events_in_time_order(
    store: CaptureStore, profile: Profile, mode: str
) -> None:
    assert profile.id is not None
    other = store.save_profile(Profile("Other", Environment.SANDBOX, "https://x"))
    assert other.id is not None
    store.ingest(other.id, [event(cdc(1, T0, "CREATE", [R1], {"Name": "Elsewhere"}))])
    lookup = filler(store, profile.id, many=mode == "indexed")  # about R3, naming R1
    ids = fill(store, profile.id)
    prepare(store, mode)
    query = EventQuery(profile.id, text=_phrase(R1), kinds=KINDS)
    assert (store._where(query).match is not None) == (mode == "indexed")
    order = ["create", "late", "topic1", "phone", "merged", "nulled", "topic2"]  # no lookup
    rows = history(store, profile.id, [R1])
    assert [r.id for r in rows] == [ids[n] for n in order]
    assert all(r.raw is None for r in rows)
    assert [r.id for r in history(store, profile.id, [R2])] == [ids["merged"]]
    both = history(store, profile.id, [R2, R3, R2])
    assert [r.id for r in both] == [lookup, ids["other"], ids["merged"]]
    assert history(store, profile.id, ["001000000000000AAA"]) == []
    assert history(store, profile.id, []) == []
    merged = store.fetch(EventQuery(profile.id, ids=(ids["merged"],)), 0, 1)[0]
    before = history(store, profile.id, [R1], (merged.created_at, merged.id), limit=2)
    assert [r.id for r in before] == [ids["topic1"], ids["phone"]]  # the newest two before it
    assert history(store, profile.id, [R1], limit=1, with_raw=True)[0].raw is not None


def test_history_follows_deletes_and_new_events(store: CaptureStore, profile: Profile) -> None:
    assert profile.id is not None
    filler(store, profile.id)
    ids = fill(store, profile.id)
    prepare(store, "indexed")
    before = [r.id for r in history(store, profile.id, [R1])]
    store.remove_subscription(profile.id, "/topic/Accounts", delete_events=True)
    store.ingest(profile.id, [event(topic(3, T0 + 70, R1, Name="New"))])  # not indexed yet
    after = [r.id for r in history(store, profile.id, [R1])]
    assert after == [i for i in before if i not in (ids["topic1"], ids["topic2"])] + [
        store.max_event_id()
    ]


def test_messages_sqlite_cannot_read_are_stored_and_have_no_record(
    store: CaptureStore, profile: Profile
) -> None:
    pid = profile.id or 0
    nested: object = R1
    for _ in range(3000):
        nested = {"level": nested}
    message = topic(9, T0, R1, Deep=nested)
    row = (
        pid,
        "/topic/Accounts",
        "pushtopic",
        9,
        None,
        T0,
        T0,
        "updated",
        "deep",
        raw_json(message),
    )
    store.ingest_records([row])
    assert store.count(EventQuery(pid)) == 1 and history(store, pid, [R1]) == []
    assert history(store, pid, ["\ud800"]) == []  # no text a filter can hold: no events


def test_record_ids_of_messages() -> None:
    assert record_ids(cdc(1, T0, "UPDATE", [R1, R2, R1, 7, ""], {})) == [R1, R2]
    assert record_ids(topic(1, T0, R1)) == [R1]
    assert record_ids(platform_event(1, "u")) == []
    assert record_ids({"data": "x"}) == record_ids([]) == []


def by_field(changes: list[Any]) -> dict[str, Any]:
    return {c.field: c for c in changes}


def test_changed_fields_first_with_their_previous_values(
    store: CaptureStore, profile: Profile, mode: str
) -> None:
    assert profile.id is not None
    filler(store, profile.id, many=mode == "indexed")
    ids = fill(store, profile.id)
    prepare(store, mode)
    phone = changes_of(store, ids["phone"])
    assert phone is not None and [c.field for c in phone] == ["Phone"]
    assert (phone[0].value, phone[0].previous, phone[0].previous_event_id) == (
        "2",
        "1",
        ids["topic1"],
    )

    nulled = changes_of(store, ids["nulled"])
    assert nulled is not None and [(c.field, c.changed) for c in nulled] == [
        ("BillingAddress.City", True),
        ("Phone", True),
        ("BillingAddress", False),
    ]
    fields = by_field(nulled)
    assert fields["Phone"].value is None and fields["Phone"].previous == "2"
    city = fields["BillingAddress.City"]
    assert city.value == "Paris" and not city.previous_known

    merged = changes_of(store, ids["merged"])  # the previous value comes from a replayed event
    assert (
        merged is not None
        and merged[0].previous == 6
        and merged[0].previous_event_id == ids["late"]
    )

    create = changes_of(store, ids["create"])
    assert create is not None and all(c.changed and not c.previous_known for c in create)

    pushed = changes_of(store, ids["topic2"])  # PushTopic: against its own channel
    assert pushed is not None and [(c.field, c.changed) for c in pushed] == [
        ("Name", True),
        ("Phone", True),  # "1" in the channel's last event (the CDC events do not count)
    ]
    assert by_field(pushed)["Phone"].previous_event_id == ids["topic1"]
    name = by_field(pushed)["Name"]
    assert (name.value, name.previous, name.previous_event_id) == (
        "Acme Corp",
        "Acme",
        ids["topic1"],
    )
    assert changes_of(store, ids["pe"]) is None and changes_of(store, 10**9) is None


def test_field_changes_look_back_a_bounded_number_of_events(
    store: CaptureStore, profile: Profile
) -> None:
    pid = profile.id or 0
    store.ingest(pid, [event(cdc(1, T0, "CREATE", [R1], {"Name": "First", "Phone": "0"}))])
    for i in range(LOOK_BACK + 5):
        store.ingest(
            pid,
            [event(cdc(i + 2, T0 + i + 1, "UPDATE", [R1], {"Phone": str(i)}, changed=["Phone"]))],
        )
    row = store.event(store.max_event_id())
    assert row is not None
    earlier = history(store, pid, [R1], (row.created_at, row.id), with_raw=True)
    changes = by_field(field_changes(row, earlier))
    assert changes["Phone"].previous == str(LOOK_BACK + 3)
    renamed = cdc(10**6, T0 + 10**6, "UPDATE", [R1], {"Name": "Second"}, changed=["Name"])
    store.ingest(pid, [event(renamed)])
    name = changes_of(store, store.max_event_id())
    assert name is not None and not name[0].previous_known  # the CREATE is too far back


def test_one_change_seen_twice_is_not_its_own_value_before(
    store: CaptureStore, profile: Profile
) -> None:
    """The same change on the entity channel and on /data/ChangeEvents (and as a
    PushTopic event) must not give itself as the value before."""
    pid = profile.id or 0
    first = cdc(1, T0, "CREATE", [R1], {"Name": "Acme"})
    change = cdc(2, T0 + 10, "UPDATE", [R1], {"Name": "Acme Corp"}, changed=["Name"])
    again = {**change, "channel": "/data/ChangeEvents"}
    for message in (first, topic(1, T0 + 10, R1, Name="Acme Corp"), change, again):
        store.ingest(pid, [event(message)])
    for event_id in (store.max_event_id() - 1, store.max_event_id()):
        (name,) = changes_of(store, event_id) or []
        assert (name.value, name.previous, name.changed) == ("Acme Corp", "Acme", True)
