"""Which API carries a channel (CometD or the Pub/Sub API) and where the Pub/Sub API is:
the checks the store, the command line and the window apply before saving a setting.

Pub/Sub serves platform events (``/event/X__e``, standard ones and real-time event
monitoring streams) and Change Data Capture (``/data/...``); PushTopic (``/topic/``) and
generic streaming (``/u/``) exist only on CometD.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .models import COMETD, PUBSUB, TRANSPORTS

SALESFORCE_PUBSUB = "api.pubsub.salesforce.com:7443"


def transport_problem(value: object, allow_default: bool = False) -> str | None:
    """Why ``value`` is not a transport (``""`` means "the profile's" where allowed)."""
    if allow_default and value == "":
        return None
    if value in TRANSPORTS:
        return None
    return f"transport must be {' or '.join(TRANSPORTS)}, not {str(value)[:40]!r}"


def pubsub_serves(channel: str) -> bool:
    """Whether the Pub/Sub API has a topic of this name (no PushTopic, no generic)."""
    return channel.startswith(("/event/", "/data/")) and "?" not in channel


def pubsub_channel_problem(channel: str) -> str | None:
    """Why ``channel`` cannot go over the Pub/Sub API (None: it can)."""
    if pubsub_serves(channel):
        return None
    return (
        f"{channel} is not on the Pub/Sub API, which serves platform events (/event/) and "
        "Change Data Capture (/data/) only: use CometD for PushTopic and generic channels"
    )


def subscription_problem(channel: str, transport: str) -> str | None:
    """Why a channel cannot be set to this transport (``""``: the profile's)."""
    problem = transport_problem(transport, allow_default=True)
    if problem is None and transport == PUBSUB:
        problem = pubsub_channel_problem(channel)
    return problem


def effective_transport(channel: str, chosen: str, default: str) -> str:
    """The transport a channel uses: its own choice, else the default (a profile's, or a
    run's ``--transport``) where Pub/Sub can serve it, else CometD."""
    if chosen:
        return chosen
    return default if default == COMETD or pubsub_serves(channel) else COMETD


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_pubsub_endpoint(endpoint: str) -> tuple[str, bool]:
    """``(host:port, tls)`` of a profile's Pub/Sub endpoint: ``""`` is Salesforce's;
    ``host:port`` or ``https://host:port`` use TLS; ``http://host:port`` is plaintext,
    allowed on loopback only (the emulator: the token would otherwise travel in clear).
    ValueError says what is wrong."""
    text = endpoint.strip() or SALESFORCE_PUBSUB
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"a Pub/Sub endpoint is host:port, not {endpoint[:80]!r}")
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    if not host or port is None:
        raise ValueError(f"a Pub/Sub endpoint is host:port, not {endpoint[:80]!r}")
    tls = parts.scheme == "https"
    if not tls and not is_loopback(host):
        raise ValueError(
            f"the Pub/Sub endpoint {endpoint[:80]!r} is plaintext: the access token would "
            "travel in clear (allowed on loopback only)"
        )
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}", tls


def pubsub_endpoint_problem(endpoint: object) -> str | None:
    if not isinstance(endpoint, str):
        return "a Pub/Sub endpoint must be text"
    try:
        parse_pubsub_endpoint(endpoint)
    except ValueError as exc:
        return str(exc)
    return None


__all__ = [
    "COMETD",
    "PUBSUB",
    "SALESFORCE_PUBSUB",
    "TRANSPORTS",
    "effective_transport",
    "parse_pubsub_endpoint",
    "pubsub_channel_problem",
    "pubsub_endpoint_problem",
    "pubsub_serves",
    "subscription_problem",
    "transport_problem",
]
