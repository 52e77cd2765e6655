"""Emulator settings, including the behaviours the protocol reference marks as uncertain (§11).

Every field has the value that matches observed Salesforce behaviour by default; tests and
users change them to reproduce other variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .pubsub_config import PubSubSettings

DEFAULT_USERNAME = "demo@sfmonitor.example"
DEFAULT_PASSWORD = "demo-password"
DEFAULT_CLIENT_ID = "sfmonitor-demo-client-id"
DEFAULT_CLIENT_SECRET = "sfmonitor-demo-client-secret"
DEFAULT_REFRESH_TOKEN = "sfmonitor-demo-refresh-token"
# the Salesforce CLI's callback URL, which the README tells users to register
DEFAULT_CALLBACK_URL = "http://localhost:1717/OauthRedirect"

REPLAY_INVALID = (
    "400::The replayId {{{replay_id}}} you provided was invalid. Please provide a valid ID, "
    "-2 to replay all events, or -1 to replay only new events."
)
REPLAY_MAP_MISSING = (
    "400::The replayId for channel {{{channel}}} wasn't found using the provided replay ID map "
    "{{{replay_map}}}. Ensure that the channel name you provided in the replay map is valid and "
    "matches the channel name used for subscribing."
)


@dataclass
class User:
    username: str
    password: str
    security_token: str = ""
    user_id: str = ""  # filled by the org when empty
    display_name: str = "Demo User"
    # "View Setup and Configuration": Tooling queries of setup objects and /limits/ need it
    view_setup: bool = True
    # objects this user may not read (e.g. "PushTopic"): queries answer INVALID_TYPE and
    # describe-global leaves them out
    hidden_objects: tuple[str, ...] = ()


@dataclass
class ConnectedApp:
    client_id: str
    client_secret: str
    # the user that client_credentials runs as
    run_as: str = DEFAULT_USERNAME
    # --- web-server flow (browser login) and JWT bearer ---------------------------------
    # callback URLs, matched exactly against redirect_uri
    callback_urls: list[str] = field(default_factory=lambda: [DEFAULT_CALLBACK_URL])
    # The app's OAuth settings. Salesforce's defaults for a new app require a secret; the
    # emulator's app is set up as the README tells users to set theirs: a public client.
    require_secret_web_server: bool = False
    require_secret_refresh: bool = False
    require_pkce: bool = True
    # PEM certificate (or public key) for the JWT bearer flow ("Use digital signatures")
    certificate: str | None = None
    # users pre-authorized for the JWT bearer flow; None = every user of the org
    jwt_users: list[str] | None = None
    # "Enable Refresh Token Rotation": each refresh answers a new refresh token and the
    # one used stops working
    rotate_refresh_token: bool = False


@dataclass
class EmulatorConfig:
    """What the emulated org and server do. Times are in seconds unless named ``_ms``."""

    users: list[User] = field(default_factory=lambda: [User(DEFAULT_USERNAME, DEFAULT_PASSWORD)])
    apps: list[ConnectedApp] = field(
        default_factory=lambda: [ConnectedApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)]
    )
    # refresh token -> (username, client id)
    refresh_tokens: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {DEFAULT_REFRESH_TOKEN: (DEFAULT_USERNAME, DEFAULT_CLIENT_ID)}
    )
    # Accept the password without the security token (a trusted IP range). When False, the
    # password grant needs password + security token, as for an untrusted network.
    trusted_ip: bool = True
    # Lifetime of access tokens; None = valid until revoked (Salesforce extends the session
    # while a CometD client stays connected).
    access_token_ttl: float | None = None
    # Public base URL (instance_url); None = derived from each request's Host header.
    public_url: str | None = None
    # --- browser login, JWT, blocked flows (issue 15) ----------------------------------
    # /services/oauth2/authorize redirects at once with a code for the default user (tests,
    # demos) instead of showing the login page
    auto_approve: bool = False
    # answer the password grant as an org that blocks the username-password flow (the
    # default since Summer '23): the same invalid_grant / authentication failure as a wrong
    # password; only Setup's login history tells the two apart
    block_password_flow: bool = False
    auth_code_ttl: float = 15 * 60.0  # lifetime of an authorization code (assumed)
    # JWT "aud" values accepted besides the login URL itself
    jwt_audiences: tuple[str, ...] = ("https://login.salesforce.com", "https://test.salesforce.com")
    # what SELECT … FROM Organization answers
    org_is_sandbox: bool = False
    org_type: str = "Developer Edition"
    org_trial_expiration: str | None = None  # set (with org_is_sandbox) for a scratch org

    # --- CometD -----------------------------------------------------------------------
    connect_timeout: float = 110.0  # hold time of a long poll (advice.timeout)
    max_interval: float = 40.0  # session expires this long after a reply without a connect
    max_request_bytes: int = 32_768  # larger bodies get 413::Maximum Request Size Exceeded
    max_events_per_reply: int = 1000  # cap of events in one connect reply (None-like: 0)
    coalesce_delay: float = 0.0  # wait this long after a wake-up to batch more events
    require_browser_cookie: bool = True  # BAYEUX_BROWSER must come back after handshake
    set_sticky_cookie: bool = True  # also set a fake load-balancer cookie (sfdc-stream)
    max_sessions_per_browser: int = 1  # CometD maxSessionsPerBrowser; 0 disables the check
    duplicate_connect_status: int = 500  # HTTP status for a superseded held connect (or 408)
    honour_client_timeout_advice: bool = True  # connect with advice.timeout=0 answered at once
    # Salesforce answers a session's first /meta/connect at once (with its advice); stock
    # CometD servers (Faye, CometD's own) hold it like any other. True: hold it too.
    hold_first_connect: bool = False
    events_before_connect_reply: bool = True  # CometD order; False puts the reply first
    handshake_ext_always: bool = True  # ext.replay in the handshake reply even if not asked
    unknown_client_advice: str = "handshake"  # or "none" (seen once, EMP#15)
    min_api_version: float = 37.0
    # Up to Winter '27 (68.0), the release orgs run on December 2026 (Salesforce's API
    # version lists: Winter '26 65.0, Spring '26 66.0, Summer '26 67.0, Winter '27 68.0).
    api_versions: tuple[str, ...] = tuple(f"{v}.0" for v in range(37, 69))

    # --- channels and replay -----------------------------------------------------------
    retention_standard: float = 24 * 3600.0  # PushTopic and generic streaming
    retention_high_volume: float = 72 * 3600.0  # platform events, CDC, monitoring streams
    # "window": N is valid when no purged event is newer than N and N is not in the future.
    # "exact": N must also be the id of a retained (or the newest purged) event.
    replay_id_check: str = "window"
    accept_future_replay_id: bool = False
    # Replay ids of every channel start after this number. Salesforce's are large and never
    # reused; the demo starts from the clock so that a new run never reuses an old run's ids.
    replay_id_base: int = 0
    replay_invalid_error: str = REPLAY_INVALID
    replay_map_missing_error: str = REPLAY_MAP_MISSING
    # The wording of today's Streaming API error table ("doesn't"; older pages and older
    # clients' logs say "does not exist"); the value's bracing is that of the replayId error.
    channel_missing_error: str = (
        "400::The channel you requested to subscribe to doesn't exist {{{channel}}}"
    )
    # Subscribing again, in the same session, to a channel already subscribed, with another
    # replay id: Salesforce's documentation is silent. "ignore" (CometD's rule: a second
    # subscribe changes nothing, no replay) or "replay" (the new replay id is applied and
    # the retained events from it are delivered again).
    resubscribe_replay: str = "ignore"
    filtered_channel_keeps_query: bool = True  # event "channel" carries ?Field=value
    cdc_event_uuid: bool = True  # CDC data.event carries EventUuid (unverified, §11)
    # RTEM payloads carry CreatedDate: the field reference of LoginEventStream lists it
    # (CreatedDate, EventDate, EventIdentifier, EventUuid, LoginKey, SessionKey, ...)
    monitoring_created_date: bool = True
    # REST publish of a platform event answers errors [{"statusCode": "OPERATION_ENQUEUED",
    # "message": <EventUuid>, "fields": []}] (publishing is asynchronous); False: errors []
    publish_enqueued_status: bool = True
    generic_dynamic_channels: bool = True  # subscribing to an unknown /u/ channel creates it

    # --- channel discovery, describe and publish (issue 16) ---------------------------
    # what the org has set up for streaming: "basic" (the default platform events and CDC
    # entities only), "demo" (some of every kind, for the discovery dialog) or "large"
    # (the demo plus 500+ generated channels)
    catalog: str = "basic"
    # records per query page (Salesforce: 2,000, or the Sforce-Query-Options batchSize);
    # tests set a small one so that nextRecordsUrl paging is exercised
    query_page_size: int = 2000
    # a Tooling query of a setup object by a user without View Setup: "INVALID_TYPE" (what
    # users report) or "INSUFFICIENT_ACCESS"
    setup_refusal: str = "INVALID_TYPE"
    # /limits/ asked by a user without View Setup (the resource needs it; the answer's
    # wording is assumed): HTTP 403 with this errorCode
    limits_refusal: str = "INSUFFICIENT_ACCESS"
    # a REST publish is checked against the event's fields: required ones missing
    # (REQUIRED_FIELD_MISSING), unknown ones (INVALID_FIELD), values of the wrong type
    publish_checks_fields: bool = True
    # the Streaming Channel Push resource answers fanoutCount -1 for a broadcast (userIds
    # empty) to a channel with subscribers, as documented; False: the number of subscribers
    push_broadcast_fanout_minus_one: bool = True

    # --- org limits ----------------------------------------------------------------------
    max_concurrent_clients: int = 2000
    concurrent_limit_as_failure_reason: bool = True  # False: the limit text is the error
    daily_pushtopic_events: int = 1_000_000
    daily_generic_events: int = 1_000_000
    daily_platform_events: int = 50_000_000  # generous so that benchmarks never hit it
    hourly_published_platform_events: int = 250_000
    # high-volume event add-on: 0 without it (what /limits/ reports then)
    monthly_platform_events_entitlement: int = 0
    daily_api_requests: int = 15_000

    # --- control ----------------------------------------------------------------------
    control_api: bool = True  # serve /__emulator/ (loopback tooling only)
    org_name: str = "sfmonitor emulator"

    # --- Pub/Sub API (served when the emulator is started with a Pub/Sub port) ----------------
    pubsub: PubSubSettings = field(default_factory=PubSubSettings)
