"""Standard platform events worth offering, with the subscribers Salesforce documents for
each ("Supported Subscribers" in the Platform Events Developer Guide's object reference,
read 2026-12). A blank "Streaming API (CometD)" cell there means CometD cannot subscribe:
FlowExecutionErrorEvent reaches Pub/Sub API clients only. Events whose channel was retired
(AsyncOperationEvent, closed to new orgs in 2019) or that no API client can subscribe to
(FlowOrchestrationEvent) are left out.

Only the events an org's describeGlobal lists are shown: the list says how to subscribe,
the org says whether it has them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StandardEvent:
    name: str
    cometd: bool
    pubsub: bool
    about: str


STANDARD_EVENTS: dict[str, StandardEvent] = {
    e.name: e
    for e in (
        StandardEvent("AIPredictionEvent", True, True, "Einstein prediction results written"),
        StandardEvent("AssetTokenEvent", True, True, "asset token issued for a connected device"),
        StandardEvent("BatchApexErrorEvent", True, True, "errors of batch Apex jobs"),
        StandardEvent(
            "DiscoveryPredictionEvent", True, True, "Einstein Discovery prediction history"
        ),
        StandardEvent("FlowExecutionErrorEvent", False, True, "errors of screen flows"),
        StandardEvent("OrderSummaryCreatedEvent", True, True, "order summaries created"),
        StandardEvent("OrderSumStatusChangedEvent", True, True, "order summary status changes"),
        StandardEvent("PendingOrdSumProcEvent", True, True, "pending order summaries processed"),
        StandardEvent(
            "PlatformStatusAlertEvent", True, True, "alerts while serving a request or job"
        ),
    )
}

# Real-time event monitoring: RealTimeEvent also lists the storage objects of the events.
# Since API 46.0 "LoginEvent" etc. name the storage objects, "...Store" objects store the
# threat-detection events; neither can be subscribed to (Salesforce Inspector Reloaded
# #859, Platform Events Developer Guide "Real-Time Event Monitoring Objects").
MONITORING_STORAGE = frozenset(
    {
        "ApiEvent",
        "IdentityVerificationEvent",
        "LightningUriEvent",
        "ListViewEvent",
        "LoginAsEvent",
        "LoginEvent",
        "LogoutEvent",
        "ReportEvent",
        "UriEvent",
    }
)


def is_monitoring_stream(entity_name: str) -> bool:
    """Whether a RealTimeEvent row names an event one can subscribe to."""
    return entity_name not in MONITORING_STORAGE and not entity_name.endswith("Store")
