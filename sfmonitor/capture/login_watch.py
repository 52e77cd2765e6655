"""What a capture learns from its logins: who and where it is (asked once per run, after
the first login, off the event path) and refresh tokens that Salesforce rotated.

Who and where: ``/services/oauth2/userinfo`` and the Organization query
(``sfmonitor.auth.identify``), kept on the profile (``CaptureStore.set_profile_org``), so
that a production org behind a My Domain URL is known as production (a replay then asks
first). A rotated refresh token replaces the old one where it was kept (the keyring, or
memory for a session-only profile); the old one may no longer work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace

from sfmonitor.auth import OAuthHttp, identify
from sfmonitor.logs import register_secret
from sfmonitor.store import CaptureStore, CredentialVault, Environment, Profile, Secrets

from .clients import CaptureClient
from .logins import org_info
from .writer import StoreWriter

log = logging.getLogger(__name__)


class LoginWatch:
    """One run's identity question and refresh-token rotations.

    ``on_identity`` receives the profile with its ``org`` as the org described itself;
    ``warn`` hears of what could not be done (the answer not saved, a rotated token not
    kept): neither ends the capture.
    """

    def __init__(
        self,
        store: CaptureStore,
        profile: Profile,
        secrets: Secrets,
        vault: CredentialVault | None,
        on_identity: Callable[[Profile], None] | None,
        warn: Callable[[str], None],
    ) -> None:
        self.store = store
        self.profile = profile
        self.secrets = secrets
        self.vault = vault
        self.on_identity = on_identity
        self.warn = warn
        self._asked = profile.environment is Environment.DEMO  # the demo's org is no org
        self._task: asyncio.Task[None] | None = None
        self._saving: set[asyncio.Task[None]] = set()

    # --- who and where ---------------------------------------------------------------------

    def logged_in(self, client: CaptureClient, writer: StoreWriter) -> None:
        """A session started: the first time in this run, ask who and where it is."""
        if self._asked:
            return
        token, instance_url = client.access_token, client.instance_url
        if not token or not instance_url:
            return
        self._asked = True
        http = OAuthHttp(client.http_options)
        self._task = asyncio.ensure_future(self._identify(instance_url, token, http, writer))

    async def _identify(
        self, instance_url: str, token: str, http: OAuthHttp, writer: StoreWriter
    ) -> None:
        try:
            identity = await identify(instance_url, token, http)
        except Exception as exc:  # refused, no answer, an odd reply: the capture goes on
            log.warning("could not ask the org who and where this login is: %s", exc)
            return
        org = org_info(identity)
        assert self.profile.id is not None
        try:
            await writer.call(self.store.set_profile_org, self.profile.id, org)
        except Exception as exc:  # the capture goes on; the profile keeps its old word
            self.warn(f"could not keep the org's details on the profile: {exc}")
        self.profile = replace(self.profile, org=org)
        log.info("logged in as %s", org.line())
        if self.on_identity is not None:
            self.on_identity(self.profile)

    # --- rotated refresh tokens --------------------------------------------------------------

    def rotated(self, refresh_token: str) -> None:
        """Salesforce replaced the refresh token: keep the new one where the old one was."""
        register_secret(refresh_token)
        self.secrets = replace(self.secrets, refresh_token=refresh_token)
        if self.vault is None:
            self.warn(
                "Salesforce replaced the refresh token of this login; it was given for this "
                f"run only, so the next run needs the new one (`sfmonitor profiles login "
                f"{self.profile.name}`)"
            )
            return
        task = asyncio.ensure_future(self._save(self.vault, self.secrets))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    async def _save(self, vault: CredentialVault, secrets: Secrets) -> None:
        try:  # a keyring call may wait on D-Bus: never on the event loop
            await asyncio.to_thread(vault.update, self.profile.name, secrets)
        except Exception as exc:  # KeyringUnavailableError says what to install
            self.warn(f"Salesforce replaced the refresh token, and keeping it failed: {exc}")
        else:
            log.info("kept the new refresh token of %s", self.profile.name)

    async def close(self) -> None:
        """The run ends: an identity question still open is dropped; a token being kept
        is kept."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            if self._task is not None:
                await asyncio.gather(self._task, return_exceptions=True)
        if self._saving:
            await asyncio.gather(*self._saving, return_exceptions=True)
