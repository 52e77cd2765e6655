"""Plain records the store reads and writes (no secrets: those live in the keyring)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

PRODUCTION_URL = "https://login.salesforce.com"
COMETD = "cometd"  # a channel's transport: the Streaming API (Bayeux long polling)
PUBSUB = "pubsub"  # the Pub/Sub API (gRPC)
TRANSPORTS = (COMETD, PUBSUB)
SANDBOX_URL = "https://test.salesforce.com"


class Environment(enum.StrEnum):
    PRODUCTION = "production"
    SANDBOX = "sandbox"
    CUSTOM = "custom"  # My Domain or another login URL
    DEMO = "demo"  # the built-in emulator
    IMPORTED = "imported"  # a read-only capture imported from an export file


DEFAULT_CALLBACK_PORT = 1717  # the browser login's loopback port (sfmonitor.auth.DEFAULT_PORT)


class AuthKind(enum.StrEnum):
    """How a profile logs in; the values are the words of ``--auth`` and of the window."""

    WEB = "web"  # browser login with PKCE; its refresh token in the keyring
    SF_CLI = "sf-cli"  # an org the Salesforce CLI is logged in to (no secret of ours)
    JWT = "jwt"  # JWT bearer: consumer key, username, private key file
    CLIENT_CREDENTIALS = "client-credentials"  # consumer key + secret (integration user)
    PASSWORD = "password"  # legacy: blocked by default in orgs since Summer '23
    REFRESH_TOKEN = "refresh-token"  # legacy: a refresh token obtained elsewhere + secret

    @classmethod
    def _missing_(cls, value: object) -> AuthKind | None:
        # rows written before the login kinds (schema v4) say ``refresh_token``
        if isinstance(value, str) and value.replace("_", "-") != value:
            return cls(value.replace("_", "-"))
        return None

    @property
    def legacy(self) -> bool:
        return self in (AuthKind.PASSWORD, AuthKind.REFRESH_TOKEN)

    @property
    def keyring_secrets(self) -> tuple[str, ...]:
        """The ``Secrets`` fields this kind keeps in the keyring (sf-cli and jwt: none;
        the CLI keeps its own login, a JWT key stays in its file)."""
        return _KEYRING_SECRETS[self]


_KEYRING_SECRETS = {
    AuthKind.WEB: ("refresh_token",),
    AuthKind.SF_CLI: (),
    AuthKind.JWT: (),
    AuthKind.CLIENT_CREDENTIALS: ("client_secret",),
    AuthKind.PASSWORD: ("password", "client_secret"),
    AuthKind.REFRESH_TOKEN: ("refresh_token", "client_secret"),
}

ORG_KINDS = ("production", "sandbox", "scratch")  # what an org says it is (else "unknown")


@dataclass(frozen=True)
class OrgInfo:
    """Who and where the last login of a profile was, as the org itself said (no secret).
    Empty until the first login."""

    org_id: str = ""
    org_name: str = ""
    user: str = ""  # the username the login belongs to
    kind: str = ""  # production | sandbox | scratch | unknown ("": never logged in)

    def line(self) -> str:
        """``ada@acme.com · Acme Corp (production)``, or "" before any login."""
        if not (self.user or self.org_id):
            return ""
        where = self.org_name or self.org_id
        text = f"{self.user} · {where}" if self.user else where
        return f"{text} ({self.kind})" if self.kind else text


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
    callback_port: int = DEFAULT_CALLBACK_PORT  # web: the browser login's loopback port
    sf_org: str = ""  # sf-cli: the CLI's alias (or username) of the org
    key_file: str = ""  # jwt: the private key's path (the key stays in its file)
    org: OrgInfo = field(default_factory=OrgInfo)  # the org's own word, after a login
    transport: str = COMETD  # the channels' transport unless a channel says otherwise
    pubsub_endpoint: str = ""  # host:port of the Pub/Sub API ("" = Salesforce's)

    @property
    def read_only(self) -> bool:
        return self.environment is Environment.IMPORTED

    @property
    def is_production(self) -> bool:
        """What the org said at the last login (a My Domain URL says nothing); before
        any login, the login URL's word. The demo and opened exports never are."""
        if self.environment in (Environment.DEMO, Environment.IMPORTED):
            return False
        if self.org.kind in ORG_KINDS:
            return self.org.kind == "production"
        return self.environment is Environment.PRODUCTION


@dataclass
class Subscription:
    channel: str
    enabled: bool = True
    replay_policy: str = "new"  # new | all | a replay id, used when nothing is stored
    transport: str = ""  # cometd | pubsub; "" = the profile's

    def transport_in(self, profile: Profile) -> str:
        """The transport this channel uses in ``profile``."""
        return self.transport or profile.transport


@dataclass
class ReplayState:
    channel: str
    replay_id: int | None
    created_at: int | None  # ms
    live_since: int | None  # ms
    replay_bytes: bytes | None = None  # a Pub/Sub position: the replay id as sent
    transport: str = COMETD  # whose position this is (never used by the other transport)


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


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
