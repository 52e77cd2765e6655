"""Settings of the emulator's Pub/Sub API server (``EmulatorConfig.pubsub``).

Defaults follow Salesforce's documentation; what it leaves open is a setting here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PubSubSettings:
    # empty FetchResponses "within 270 s" (proto); clients in the field saw ~60 s
    keepalive: float = 60.0
    # a stream whose credit stays 0 this long is closed (docs: a new FetchRequest within 60 s)
    credit_timeout: float = 60.0
    max_outstanding: int = 100  # events requested and not yet sent, summed over requests
    max_events_per_response: int = 100
    # metadata checks: instanceurl must be the org's URL; tenantid the org id (15 or 18)
    check_instance_url: bool = True
    tenant_id_lengths: tuple[int, ...] = (15, 18)
    # uncertain in the docs (a third-party digest): the code and text for a missing topic
    topic_not_found_code: str = "sfdc.platform.eventbus.grpc.topic.not.found"
    topic_not_found_text: str = "The topic {topic} was not found or you don't have access to it."
