"""The clients a capture uses: where each channel resumes (``ReplayBook``, read from the
store before the first subscribe) and the streaming client of a profile, whatever its
login kind (its token source comes from ``logins``).

The seed library persists replay ids through ``ReplayMixin.store_replay_id``; a capture
does not: the store writes each event and its channel's replay id in ONE transaction (the
writer's ``ingest_records``), so a crash can repeat an event but never skip one. The
client only reads where to resume (``get_last_replay_id`` → ``ReplayBook``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sfmonitor.store import Profile, ReplayState, Secrets
from sfmonitor.store.validation import replay_policy_problem
from sfmonitor.streaming import (
    AutoReconnectMixin,
    AutoVersionMixin,
    LiveSince,
    ReplayMixin,
    ReplayType,
    ReSubscribeMixin,
    TokenSourceSalesforceStreaming,
)

from .logins import token_source

# --- where each channel resumes ----------------------------------------------------------


def policy_replay(policy: str) -> int:
    """A subscription's replay policy (``new``, ``all`` or an id) as a replay value;
    ValueError for anything else (an id beyond 64 bits included)."""
    problem = replay_policy_problem(policy)
    if problem is not None:
        raise ValueError(problem)
    if policy == "all":
        return int(ReplayType.ALL_EVENTS)
    if policy == "new":
        return int(ReplayType.NEW_EVENTS)
    return int(policy)


class ReplayBook:
    """Where each channel resumes when the client has received nothing on it yet.

    The stored replay id wins; then a stored live-since marker (the channel was live from
    -1 before a crash: resume with -2 and drop older events); then the subscription's
    policy. ``override`` (``new``, ``all`` or an id) replaces all three for this run.
    """

    def __init__(
        self,
        states: dict[str, ReplayState],
        policies: dict[str, str],
        override: str | None = None,
    ) -> None:
        self.states = states
        self.policies = policies
        self.override = None if override in (None, "stored") else override
        if self.override is not None:
            policy_replay(self.override)  # a bad value fails here, not in a subscribe
        self.started_new: set[str] = set()
        self.latest: dict[str, int] = {}  # newest replay id received per channel, this run

    def forget(self, channel: str) -> None:
        """The channel was removed: when it is added again, its policy decides."""
        self.states.pop(channel, None)
        self.latest.pop(channel, None)
        self.started_new.discard(channel)

    def received(self, channel: str, replay_id: int) -> None:
        """An event came: a later session of this run resumes after it (the stored
        state was read when the run began)."""
        if replay_id > self.latest.get(channel, -1):
            self.latest[channel] = replay_id

    def set_policy(self, channel: str, policy: str) -> None:
        """The channel is (re)added with ``policy``: it starts there, not where an
        earlier subscription of it stopped."""
        policy_replay(policy)
        self.forget(channel)
        self.policies[channel] = policy

    def resume_point(self, channel: str) -> int | LiveSince:
        state = self.states.get(channel)
        if self.override is not None:
            value: int | LiveSince = policy_replay(self.override)
        elif channel in self.latest:
            value = self.latest[channel]
        elif state is not None and state.replay_id is not None:
            value = state.replay_id
        elif state is not None and state.live_since is not None:
            value = LiveSince(state.live_since / 1000)
        else:
            value = policy_replay(self.policies.get(channel, "new"))
        if value == ReplayType.NEW_EVENTS:
            self.started_new.add(channel)
        return value


def org_id_of(identity_url: object) -> str | None:
    """The org id in a login's identity URL (``https://login…/id/<org id>/<user id>``)."""
    parts = identity_url.rstrip("/").split("/") if isinstance(identity_url, str) else []
    return parts[-2] if len(parts) >= 3 and parts[-3] == "id" and parts[-2] else None


class _StoreReplay(ReplayMixin):
    book: ReplayBook
    pinned_version: str
    org_id: str | None = None  # from the last login: every record a sink gets carries it

    def on_token(self, data: dict[str, Any]) -> None:
        super().on_token(data)  # type: ignore[misc]
        self.org_id = org_id_of(data.get("id")) or self.org_id

    async def get_last_replay_id(self, channel: str) -> int | ReplayType | LiveSince:
        return self.book.resume_point(channel)

    async def _resolve_version(self, instance_url: str) -> str:
        if self.pinned_version:
            return self.pinned_version
        return str(await super()._resolve_version(instance_url))  # type: ignore[misc]


class CaptureClient(
    _StoreReplay,
    AutoVersionMixin,
    AutoReconnectMixin,
    ReSubscribeMixin,
    TokenSourceSalesforceStreaming,
):
    """A profile's client, resuming from the store, whatever its login kind (the token
    comes from the profile's token source at every connect and after a 401).

    It keeps the newest access token in memory (never in a repr) so that the capture can
    ask the org who and where this login is (``sfmonitor.auth.identify``)."""

    _access_token: str | None = None

    async def fetch_token(self) -> tuple[str, str]:
        token, instance_url = await super().fetch_token()
        self._access_token = token
        last = getattr(self.token_source, "last", None)  # an OAuth grant's token response
        self.org_id = getattr(last, "org_id", None) or self.org_id
        return token, instance_url

    @property
    def access_token(self) -> str | None:
        return self._access_token


def make_client(
    profile: Profile,
    secrets: Secrets,
    book: ReplayBook,
    *,
    on_rotate: Callable[[str], None] | None = None,
    **options: Any,
) -> CaptureClient:
    """A client for ``profile`` (nothing connects until ``start()``); ``on_rotate`` hears
    of a refresh token that Salesforce replaced (to be saved where the old one was)."""
    client = CaptureClient(
        token_source=token_source(profile, secrets, on_rotate),
        login_url=profile.login_url or None,
        **options,
    )
    client.book = book
    client.pinned_version = profile.api_version
    return client
