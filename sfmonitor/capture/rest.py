"""Access to an org's REST API (discovery, limits, publish) for a profile.

The token comes from the profile's own streaming client (``clients.make_client``, whose
token source is the profile's login kind): a running capture lends its client
(``RestCredentials(capture.client)``), so a refresh token that Salesforce rotates goes where the
capture keeps it; without a capture one is built from the profile's secrets (the CLI, a
window not connected). There is no second login implementation.

The access token is kept in memory only (never in a repr) and logged in for again once
when Salesforce refuses it (HTTP 401).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sfmonitor.auth.http import OAuthHttp
from sfmonitor.discovery.rest import MAX_REST_BODY
from sfmonitor.logs import register_secret
from sfmonitor.store import CaptureStore, CredentialVault, Profile, Secrets
from sfmonitor.streaming import AuthenticationError, BaseSalesforceStreaming

from .clients import ReplayBook, make_client
from .login_watch import LoginWatch

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestAccess:
    """What one REST call needs. ``http`` holds only options (the client's connector left
    out: a REST call never borrows the streaming session's connections)."""

    instance_url: str
    token: str = field(repr=False)
    api_version: str | None
    http: OAuthHttp = field(repr=False)


class RestCredentials:
    """Instance URL and access token of one profile, from its streaming client's login."""

    def __init__(
        self,
        client: BaseSalesforceStreaming,
        api_version: str = "",
        watch: LoginWatch | None = None,
    ) -> None:
        self.client = client
        self.watch = watch  # keeps a rotated refresh token (its own client's only)
        self.api_version = api_version or None  # None: the newest the org serves
        self._access: RestAccess | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<RestCredentials {self.client.login_url}>"

    async def access(self, refused: RestAccess | None = None) -> RestAccess:
        """The last login's access, or a new login when there is none or Salesforce
        refused it (``refused``; a login made meanwhile by another call is used).
        AuthenticationError when the org refuses the profile's credentials."""
        async with self._lock:
            if self._access is not None and self._access is not refused:
                return self._access
            # the client's own login: its address rules, the log redactor, a rotated
            # refresh token kept in the client
            token, instance_url = await self.client._login()
            options = dataclasses.replace(self.client.http_options, connector=None)
            access = RestAccess(
                instance_url.rstrip("/"),
                token,
                self.api_version,
                OAuthHttp(options, max_body=MAX_REST_BODY),
            )
            self._access = access
            return access

    async def call(self, op: Callable[[RestAccess], Awaitable[T]]) -> T:
        """``op(access)``; when Salesforce answers 401 (a token expired or revoked), once
        more after a new login."""
        first = await self.access()
        try:
            return await op(first)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise
        return await op(await self.access(refused=first))

    async def close(self) -> None:
        """A rotated refresh token being kept is kept before this returns."""
        if self.watch is not None:
            await self.watch.close()


def profile_credentials(
    profile: Profile,
    secrets: Secrets,
    store: CaptureStore | None = None,
    vault: CredentialVault | None = None,
    warn: Callable[[str], None] = log.warning,
    **client_options: Any,
) -> RestCredentials:
    """Credentials for a profile that is not capturing: its client, never started. With
    ``store``, a refresh token that Salesforce rotates is kept where the old one was, as a
    capture keeps it (``LoginWatch``): in ``vault``, or said to ``warn`` when the secrets
    were given for this run only. ``close()`` waits for it to be kept."""
    register_secret(*secrets.values())  # masked in every log record, as by a capture
    watch = LoginWatch(store, profile, secrets, vault, None, warn) if store else None
    rotated = watch.rotated if watch is not None else None
    client = make_client(profile, secrets, ReplayBook({}, {}), on_rotate=rotated, **client_options)
    return RestCredentials(client, profile.api_version, watch)
