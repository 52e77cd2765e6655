"""Channel discovery, org limits and test publishing, over Salesforce's REST API.

No Qt and no store: the window and the CLI call these and show (or cache) the results.

- ``discover(instance_url, token, api_version)`` -> ``Discovery``: every channel by kind
  (PushTopics, generic streaming, platform events, standard events, Change Data Capture,
  custom channels, real-time event monitoring), with badges and one status per source;
  ``Discovery.to_json()`` / ``from_json()`` for a per-profile cache.
- ``fetch_limits(...)`` -> ``Limits``; ``check_replay(limits, n, kind)``: would a replay of
  n events likely exceed what remains of its daily allocation?
- ``describe_event(...)`` -> ``EventForm`` (fields, types, required, defaults);
  ``publish_event(...)`` -> ``PublishResult`` (with the OPERATION_ENQUEUED EventUuid);
  ``push_generic(...)`` -> ``PushResult``; ``publish(...)`` by channel name.

``token`` is an access token or a token source (``sfmonitor.auth`` sources, asked again
once when Salesforce answers 401).
"""

from .discover import discover
from .forms import EventForm, FieldSpec, form_from_describe
from .limits import (
    DELIVERY,
    STREAMING_LIMITS,
    Limit,
    Limits,
    ReplayCheck,
    check_replay,
    fetch_limits,
    parse_limits,
)
from .model import Channel, Discovery, Kind, SourceStatus
from .publish import (
    PublishError,
    PublishResult,
    PushResult,
    describe_event,
    publish,
    publish_event,
    push_generic,
)
from .rest import RestClient, RestError
from .standard_events import STANDARD_EVENTS, StandardEvent

__all__ = [
    "DELIVERY",
    "STANDARD_EVENTS",
    "STREAMING_LIMITS",
    "Channel",
    "Discovery",
    "EventForm",
    "FieldSpec",
    "Kind",
    "Limit",
    "Limits",
    "PublishError",
    "PublishResult",
    "PushResult",
    "ReplayCheck",
    "RestClient",
    "RestError",
    "SourceStatus",
    "StandardEvent",
    "check_replay",
    "describe_event",
    "discover",
    "fetch_limits",
    "form_from_describe",
    "parse_limits",
    "publish",
    "publish_event",
    "push_generic",
]
