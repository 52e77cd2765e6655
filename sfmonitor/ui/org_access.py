"""REST access to the org of a profile, for the window's discovery, limits and publish flows.

The capture of that profile lends its client's login (its token source);
a profile that is not capturing logs in with its own client, built from its secrets (the
keyring's, or the demo's). Every call is an asyncio task on the window's (qasync) loop:
the network never blocks the Qt thread, and no nested event loop runs. A call is tried
once more after a new login when Salesforce answers 401.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from sfmonitor.capture import Capture, RestAccess, RestCredentials, profile_credentials
from sfmonitor.store import Environment, KeyringUnavailableError, Profile, Secrets
from sfmonitor.streaming import AuthenticationError

if TYPE_CHECKING:
    from .main_window import MainWindow

T = TypeVar("T")


class NoAccess(Exception):
    """No way to log in to this profile's org from here (no secrets, an export)."""


class OrgAccess:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._idle: dict[int, tuple[Profile, RestCredentials]] = {}
        self._lent: tuple[Capture, RestCredentials] | None = None  # the running capture's

    async def credentials(self, profile: Profile) -> RestCredentials:
        c = self.w.controller
        if c.capturing(profile) and c.capture is not None:
            if profile.id in self._idle:  # its own login is stale once the capture rotates
                await self._forget(profile.id)
            if self._lent is None or self._lent[0] is not c.capture:
                lent = RestCredentials(c.capture.client, profile.api_version)
                self._lent = (c.capture, lent)
            return self._lent[1]
        if profile.id is None or profile.read_only:
            raise NoAccess(f"{profile.name} is an opened export: it has no org to ask")
        known = self._idle.get(profile.id)
        if known is not None and known[0] == profile:
            return known[1]
        if known is not None:  # the profile changed since: a login of its own again
            await self._forget(profile.id)
        demo = profile.environment is Environment.DEMO
        credentials = profile_credentials(
            profile,
            await self._secrets(profile),
            self.w.store,
            None if demo else self.w.vault,  # where a rotated refresh token goes back
            warn=lambda text: self.w.status.show_problem("Login", text),
        )
        self._idle[profile.id] = (profile, credentials)
        return credentials

    async def _secrets(self, profile: Profile) -> Secrets:
        demo = self.w.demo
        if profile.environment is Environment.DEMO and demo is not None:
            return demo.secrets  # type: ignore[no-any-return]
        if not profile.auth_kind.keyring_secrets:  # sf-cli, jwt: nothing of ours to read
            return Secrets()
        try:
            secrets = await self.w.worker.run(self.w.vault.load, profile.name)
        except KeyringUnavailableError as exc:
            raise NoAccess(f"the keyring cannot be read ({exc}): connect first") from None
        if secrets is None:
            raise NoAccess(f"no secrets for {profile.name} in the keyring: connect first")
        return secrets

    async def call(self, profile: Profile, op: Callable[[RestAccess], Coroutine[Any, Any, T]]) -> T:
        """``op(access)``: its result, or what it raised; ``NoAccess`` when there is no
        way in."""
        credentials = await self.credentials(profile)
        try:
            return await credentials.call(op)
        except AuthenticationError:
            if profile.id is not None:
                await self._forget(profile.id)  # the secrets may have changed since
            raise

    async def _forget(self, profile_id: int) -> None:
        known = self._idle.pop(profile_id, None)
        if known is not None:
            await known[1].close()  # a rotated refresh token being kept is kept

    async def close(self) -> None:
        """Before the window closes: every login of a profile not capturing ends, a
        refresh token Salesforce rotated meanwhile kept."""
        for profile_id in list(self._idle):
            await self._forget(profile_id)
