"""Bayeux ``advice`` from a server, checked field by field before the client follows it.

A field of the wrong type or out of range (``"timeout": "abc"``, ``"interval": 1e12``,
``"reconnect": 5``) is dropped with a warning and the client goes on with what it had: a
bad hint must not end a capture (issue 13), nor make it wait for hours.
"""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

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
    """The usable fields of ``advice`` (a dict, else nothing). Each bad field is logged once
    per field name in ``warned`` (the caller's set, so that a server repeating it does not
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
