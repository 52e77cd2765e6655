"""Orgs worth discovering: the demo org (some of every kind of channel, so that "Add
channels…" has something to show) and a large org (500+ channels, for tests and the
discovery benchmark). Both are idempotent: seeding twice changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import EventDef, FieldDef

if TYPE_CHECKING:
    from .org import Org

DEMO_TOPICS = (
    ("AccountUpdates", "SELECT Id, Name, Industry, Phone, AnnualRevenue FROM Account",
     "All account changes", True),
    ("BigOpportunities", "SELECT Id, Name, Amount, StageName FROM Opportunity "
     "WHERE Amount > 10000", "", True),
    ("ContactChanges", "SELECT Id, Name, Email, Phone FROM Contact", "Contacts, any change", True),
    ("WebLeads", "SELECT Id, Company, Status FROM Lead WHERE LeadSource = 'Web'",
     "Leads from the web form", True),
    ("EscalatedCases", "SELECT Id, Subject, Priority FROM Case WHERE Priority = 'High'",
     "Retired when the escalation flow replaced it", False),
)  # fmt: skip
DEMO_GENERIC = (
    ("/u/notifications", "Operations notices"),
    ("/u/deployments", "Deployment pipeline status"),
    ("/u/notifications/ExampleUserChannel", "The Streaming API guide's example"),
)
# entities with change events: label, selected on the standard channel
DEMO_CDC = (
    ("Account", True), ("Contact", True), ("Opportunity", True), ("Lead", True), ("Case", True),
    ("Task", False), ("User", False), ("Order", False), ("Product2", False),
    ("Campaign", False), ("Invoice__c", True), ("Shipment__c", False),
)  # fmt: skip
DEMO_MONITORING = {
    "LoginEventStream": True,
    "LogoutEventStream": True,
    "ApiEventStream": False,
    "LightningUriEventStream": False,
    "ListViewEventStream": False,
    "ReportEventStream": False,
    "UriEventStream": False,
    "ApiAnomalyEvent": True,
    "CredentialStuffingEvent": False,
    "ReportAnomalyEvent": False,
    "SessionHijackingEvent": False,
    # storage objects RealTimeEvent lists too (discovery leaves them out)
    "LoginEvent": True,
    "ApiAnomalyEventStore": True,
}

SHIPMENT_EVENT = EventDef(
    "Shipment_Update__e",
    "Shipment Update",
    [
        FieldDef("Tracking_Number__c", "string", "Tracking Number", required=True, length=40),
        FieldDef(
            "Status__c", "string", "Status", length=20, default_formula="'In Transit'",
            help="In Transit, Delivered or Returned",
        ),
        FieldDef("Carrier__c", "string", "Carrier", length=40),
        FieldDef("Weight_Kg__c", "double", "Weight (kg)", precision=8, scale=2),
        FieldDef("Packages__c", "double", "Packages", precision=3, scale=0, default_formula="1"),
        FieldDef("Fragile__c", "boolean", "Fragile", default_formula="false"),
        FieldDef("Ship_Date__c", "date", "Ship Date"),
        FieldDef("Delivered_At__c", "datetime", "Delivered At"),
        FieldDef("Notes__c", "textarea", "Notes", length=32768),
    ],
)  # fmt: skip


def seed(org: Org, kind: str) -> None:
    """Seed ``kind`` ("demo" or "large"); ValueError for anything else."""
    if kind == "demo":
        seed_demo(org)
    elif kind == "large":
        seed_large(org)
    elif kind != "basic":
        raise ValueError(f"unknown catalog {kind!r}: basic, demo or large")


def seed_demo(org: Org) -> None:
    cat = org.catalog
    for name, query, description, active in DEMO_TOPICS:
        if name not in org.push_topics:
            topic = org.create_push_topic(
                {"Name": name, "Query": query, "Description": description}
            )
            topic.is_active = active
    for channel, description in DEMO_GENERIC:
        org.create_streaming_channel(channel)
        cat.channel_descriptions[channel] = description
    cat.define_event(SHIPMENT_EVENT)
    org.platform_events.update(
        ["Shipment_Update__e", *(n for n, e in cat.events.items() if e.standard)]
    )
    for entity, selected in DEMO_CDC:
        cat.add_cdc_entity(entity)
        if selected:
            org.cdc_entities.add(entity)
    if "SalesEvents" not in cat.channels:
        cat.add_channel("SalesEvents", "data", "Sales Events")
        cat.add_member("SalesEvents", "OpportunityChangeEvent")
        cat.add_member("SalesEvents", "AccountChangeEvent")
        cat.add_channel("OrderStream", "event", "Order Stream")
        cat.add_member("OrderStream", "Order_Placed__e")
        cat.add_member("OrderStream", "Shipment_Update__e")
    for name, enabled in DEMO_MONITORING.items():
        cat.set_realtime(name, enabled)


def seed_large(org: Org, topics: int = 95, generic: int = 60, events: int = 150) -> None:
    """The demo org plus generated channels, within Salesforce's allocations: ``topics``
    PushTopics (100 in all, the most an org may have; one in ten inactive), ``generic``
    streaming channels, ``events`` platform events, 300 custom objects with change events
    (one in ten selected) and 12 custom channels with three members each."""
    seed_demo(org)
    cat = org.catalog
    for i in range(1, topics + 1):
        name = f"Topic{i:04d}"
        if name not in org.push_topics:
            topic = org.create_push_topic(
                {"Name": name, "Query": f"SELECT Id, Name FROM Account WHERE Name = 'T{i}'"}
            )
            topic.is_active = i % 10 != 0
    for i in range(1, generic + 1):
        org.create_streaming_channel(f"/u/generated/channel{i:03d}")
    for i in range(1, events + 1):
        name = f"Generated_Event_{i:03d}__e"
        if name not in cat.events:
            fields = [FieldDef("Message__c", "string", "Message"), FieldDef("Count__c", "double")]
            cat.define_event(EventDef(name, f"Generated Event {i:03d}", fields))
            org.platform_events.add(name)
    for i in range(1, 301):
        entity = f"Object{i:03d}__c"
        cat.add_cdc_entity(entity, f"Object {i:03d}")
        if i % 10 == 0:
            org.cdc_entities.add(entity)
    for i in range(1, 13):
        dev = f"Generated{i:02d}"
        if dev not in cat.channels:
            data = i % 2 == 0
            cat.add_channel(dev, "data" if data else "event", f"Generated channel {i:02d}")
            for j in range(3):
                n = (i * 3 + j) % events + 1
                cat.add_member(
                    dev, f"Object{n:03d}__ChangeEvent" if data else f"Generated_Event_{n:03d}__e"
                )
