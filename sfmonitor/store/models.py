"""Plain records the store reads and writes (no secrets: those live in the keyring)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

PRODUCTION_URL = "https://login.salesforce.com"
SANDBOX_URL = "https://test.salesforce.com"


class Environment(enum.StrEnum):
    PRODUCTION = "production"
    SANDBOX = "sandbox"
    CUSTOM = "custom"  # My Domain or another login URL
    DEMO = "demo"  # the built-in emulator
    IMPORTED = "imported"  # a read-only capture imported from an export file


class AuthKind(enum.StrEnum):
    PASSWORD = "password"
    REFRESH_TOKEN = "refresh_token"


@dataclass
class Profile:
    """How to reach one org. ``id`` is None until saved."""

    name: str
    environment: Environment
    login_url: str
    auth_kind: AuthKind = AuthKind.PASSWORD
    username: str = ""
    client_id: str = ""
    api_version: str = ""
    keep_events: int | None = None  # retention: keep the newest N events
    keep_days: float | None = None  # retention: keep N days
    source: str = ""  # the file an imported capture came from
    id: int | None = None

    @property
    def read_only(self) -> bool:
        return self.environment is Environment.IMPORTED

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


@dataclass
class Subscription:
    channel: str
    enabled: bool = True
    replay_policy: str = "new"  # new | all | a replay id, used when nothing is stored


@dataclass
class ReplayState:
    channel: str
    replay_id: int | None
    created_at: int | None  # ms
    live_since: int | None  # ms


@dataclass(frozen=True)
class Gap:
    channel: str
    at: int  # ms
    stored_replay_id: int | None
    action: str
    server_text: str
    id: int | None = None


@dataclass(frozen=True)
class EventRow:
    """One stored event as the table shows it; ``raw`` is loaded only when asked for."""

    id: int
    profile_id: int
    channel: str
    kind: str
    replay_id: int | None
    event_uuid: str | None
    created_at: int  # ms
    received_at: int  # ms
    change: str
    summary: str
    raw: str | None = None


@dataclass(frozen=True)
class EventQuery:
    """Which events: every field narrows the selection; the defaults select everything."""

    profile_id: int | None = None
    text: str = ""  # the filter language (sfmonitor.store.filters)
    channels: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)
    since_ms: int | None = None
    until_ms: int | None = None
    ids: tuple[int, ...] | None = None  # exactly these rows (a selection)
    after_id: int | None = None  # only rows stored after this one (live updates)
    upto_id: int | None = None  # only rows stored up to this one (a stable snapshot)
    exclude_channels: frozenset[str] = field(default_factory=frozenset)  # left out (hidden)


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
