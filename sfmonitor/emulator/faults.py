"""Faults the emulator can inject on demand: what breaks streaming clients in the field.

Transport faults (HTTP errors, resets, slow or malformed responses) are consumed by the
HTTP middleware; Bayeux-level faults (503 failureReason) by the CometD handler; org-level
faults (revocation, expiry, restart, limits, clock) act on the ``Org`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCOPES = ("cometd", "oauth", "rest", "all")
MALFORMED_KINDS = ("truncated", "html", "not_json", "wrong_types", "empty")

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
    "<h1>Maintenance</h1><p>This Salesforce instance is temporarily unavailable.</p>"
    "</body></html>"
)
BUSY_REASON = "503::Server is too busy.  Please try your request again later."


@dataclass
class Pending:
    """A fault that applies to the next ``count`` matching requests."""

    kind: str  # http_status | reset | slow | malformed
    count: int
    scope: str = "cometd"
    status: int = 503
    delay: float = 0.0
    malformed: str = "truncated"
    # only requests whose path (followed by a space and the ?q= query) contains this text,
    # e.g. "/tooling/query" or "FROM PushTopic": one call of many made at once
    path: str = ""


@dataclass
class FaultPlan:
    pending: list[Pending] = field(default_factory=list)
    busy: int = 0  # next N handshake/connect messages get the 503 failureReason
    fired: dict[str, int] = field(default_factory=dict)

    def add(self, fault: Pending) -> None:
        if fault.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        self.pending.append(fault)

    def take(self, scope: str, target: str = "") -> Pending | None:
        """The first pending fault for a request of ``scope`` (and ``target``: its path and
        query, see ``Pending.path``), consuming one use of it."""
        for fault in self.pending:
            if fault.scope in (scope, "all") and fault.path in target:
                fault.count -= 1
                if fault.count <= 0:
                    self.pending.remove(fault)
                self.fired[fault.kind] = self.fired.get(fault.kind, 0) + 1
                return fault
        return None

    def take_busy(self) -> bool:
        if self.busy > 0:
            self.busy -= 1
            self.fired["busy"] = self.fired.get("busy", 0) + 1
            return True
        return False

    def clear(self) -> None:
        self.pending.clear()
        self.busy = 0
