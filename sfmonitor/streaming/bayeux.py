"""The Bayeux protocol as the client speaks it: the meta channels, the messages it sends, and
what a reply says (its error, its ``failureReason``, its advice).

Pure functions on plain dicts: no I/O, no state, so that the session engine reads as
decisions and every message shape is in one place (reference §2 and §4).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from .errors import BayeuxError

log = logging.getLogger(__name__)

Message = dict[str, Any]
Batch = list[Message]

META_PREFIX = "/meta/"  # replies of the protocol itself, not events
HANDSHAKE = META_PREFIX + "handshake"
CONNECT = META_PREFIX + "connect"
SUBSCRIBE = META_PREFIX + "subscribe"
UNSUBSCRIBE = META_PREFIX + "unsubscribe"
DISCONNECT = META_PREFIX + "disconnect"

LONG_POLLING = "long-polling"

# --- what the client sends -------------------------------------------------------------------


def handshake(msg_id: str) -> Message:
    """Asks for a session; ``ext.replay`` turns Salesforce's replay extension on (§2.4)."""
    return {
        "channel": HANDSHAKE,
        "version": "1.0",
        "minimumVersion": "1.0",
        "supportedConnectionTypes": [LONG_POLLING],
        "ext": {"replay": True},
        "id": msg_id,
    }


def connect(client_id: str | None, msg_id: str) -> Message:
    return {
        "channel": CONNECT,
        "clientId": client_id,
        "connectionType": LONG_POLLING,
        "id": msg_id,
    }


def subscribe(client_id: str | None, channel: str, replay: int, msg_id: str) -> Message:
    """Subscribes from ``replay`` (-2, -1 or a replay id) via the replay extension (§2.6)."""
    return {
        "channel": SUBSCRIBE,
        "clientId": client_id,
        "subscription": channel,
        "id": msg_id,
        "ext": {"replay": {channel: replay}},
    }


def unsubscribe(client_id: str | None, channel: str, msg_id: str) -> Message:
    return {
        "channel": UNSUBSCRIBE,
        "clientId": client_id,
        "subscription": channel,
        "id": msg_id,
    }


def disconnect(client_id: str, msg_id: str) -> Message:
    return {"channel": DISCONNECT, "clientId": client_id, "id": msg_id}


def refused_subscribe(channel: str, error: str) -> Message:
    """The reply a pending ``subscribe()`` gets when the client itself ends it (stopped,
    failed, unsubscribed): shaped as the server's, so that callers read one kind."""
    return {"channel": SUBSCRIBE, "subscription": channel, "successful": False, "error": error}


# --- what a reply says -----------------------------------------------------------------------


def find_reply(replies: Batch, channel: str) -> Message | None:
    """The first reply on ``channel`` (a meta channel), wherever it is in the batch."""
    return next((m for m in replies if type(m) is dict and m.get("channel") == channel), None)


def connect_reply(replies: Batch) -> Message | None:
    """The ``/meta/connect`` reply of a poll: it comes last (events first, §2.5), so it is
    searched from the end."""
    return next(
        (m for m in reversed(replies) if type(m) is dict and m.get("channel") == CONNECT),
        None,
    )


def subscribe_replies(replies: Batch) -> dict[Any, Message]:
    """The ``/meta/subscribe`` replies of a (bulk) subscribe, by channel subscribed."""
    return {
        m.get("subscription"): m
        for m in replies
        if type(m) is dict and m.get("channel") == SUBSCRIBE
    }


def failure_reason(reply: Message) -> str | None:
    """Salesforce's ``ext.sfdc.failureReason`` (the real cause behind a generic error)."""
    ext = reply.get("ext")
    sfdc = ext.get("sfdc") if isinstance(ext, dict) else None
    reason = sfdc.get("failureReason") if isinstance(sfdc, dict) else None
    return reason if isinstance(reason, str) else None


def error_of(reply: Message) -> BayeuxError:
    """An unsuccessful reply as a ``BayeuxError`` carrying the server's words."""
    error = reply.get("error")
    return BayeuxError(
        error if isinstance(error, str) else "unsuccessful reply without error",
        failure_reason(reply),
        reply.get("channel"),
    )


def token_refused(err: BayeuxError) -> bool:
    """The server refused our access token (401, in the error or its failureReason)."""
    return err.code == 401 or (err.failure_reason or "").startswith("401")


def server_busy(err: BayeuxError) -> bool:
    """Salesforce is overloaded or in maintenance (503): worth retrying later."""
    return err.code == 503 or (err.failure_reason or "").startswith("503")


def unknown_client(err: BayeuxError) -> bool:
    """The server no longer knows our clientId (the session expired, §4.2)."""
    return "Unknown client" in err.text


def replay_invalid(err: BayeuxError) -> bool:
    """The replay id subscribed from can no longer be served (§4.3)."""
    return err.text.startswith("400::The replayId") and "invalid" in err.text


# --- advice ------------------------------------------------------------------------------------

RECONNECT_VALUES = ("retry", "handshake", "none")
MAX_TIMEOUT_MS = 600_000  # Salesforce advises 110,000; more would only hide a dead link
MAX_INTERVAL_MS = 60_000  # Salesforce advises 0 (2,000 with multiple-clients)


def _number(value: Any, ceiling: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return min(float(value), ceiling)


def checked_advice(advice: Any, warned: set[str]) -> dict[str, Any]:
    """The usable fields of a reply's ``advice`` (a dict, else nothing).

    A field of the wrong type or out of range (``"timeout": "abc"``, ``"interval": 1e12``,
    ``"reconnect": 5``) is dropped with a warning and the client goes on with what it had: a
    bad hint must not end a capture (issue 13), nor make it wait for hours. Each bad field
    is logged once per name in ``warned`` (the caller's set: a server repeating it does not
    flood the log)."""
    if not isinstance(advice, dict):
        if advice is not None and "advice" not in warned:
            warned.add("advice")
            log.warning("ignoring server advice that is not an object: %.80r", advice)
        return {}
    out: dict[str, Any] = {}
    for key, value in advice.items():
        if key == "timeout":
            checked: Any = _number(value, MAX_TIMEOUT_MS)
        elif key == "interval":
            checked = _number(value, MAX_INTERVAL_MS)
        elif key == "reconnect":
            checked = value if value in RECONNECT_VALUES else None
        else:
            out[key] = value  # not used by the client: kept as given
            continue
        if checked is None:
            if key not in warned:
                warned.add(key)
                log.warning("ignoring server advice %s=%.80r (not a usable value)", key, value)
            continue
        out[key] = checked
    return out
