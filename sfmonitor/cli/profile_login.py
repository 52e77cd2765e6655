"""Logging a profile in from the command line (``profiles add`` and ``profiles login``):
the browser login for ``web``, one login with what the profile has for the other kinds,
and what the login leaves kept: the refresh token in the keyring, who and where it is on
the profile."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

from sfmonitor.auth import DEFAULT_TIMEOUT, LoginResult, system_browser
from sfmonitor.capture.logins import browser_login, check_login, secrets_after, with_login
from sfmonitor.store import AuthKind, CredentialVault, KeyringUnavailableError, Profile, Secrets

from .common import read_secrets, say

# kinds whose login is checked when the profile is added (the legacy ones are kept as
# they were: saved, and tried at the first capture)
CHECKED_AT_ADD = (AuthKind.SF_CLI, AuthKind.JWT, AuthKind.CLIENT_CREDENTIALS)


async def _open_and_say(url: str) -> bool:
    opened = await system_browser(url)
    if not opened:
        say("no web browser could be opened: open the address above in one")
    return opened


def browser(profile: Profile, open_browser: bool) -> LoginResult:
    """The browser login of a ``web`` profile: the address is printed (to copy when no
    browser opens, e.g. over ssh) and opened with ``webbrowser`` (``$BROWSER``)."""

    def show(url: str) -> None:
        minutes = int(DEFAULT_TIMEOUT // 60)
        say(f"log in to Salesforce in your browser (waiting {minutes} minutes): {url}")

    return asyncio.run(
        browser_login(profile, open_browser=_open_and_say if open_browser else None, on_url=show)
    )


def log_in(
    profile: Profile,
    vault: CredentialVault,
    *,
    secrets_stdin: bool,
    open_browser: bool,
    check: bool,
) -> tuple[Profile, Secrets]:
    """Log ``profile`` in (``check``: also the kinds that need no browser) and return it
    knowing who and where the login is, with the secrets to keep. The keyring is checked
    first, so that a login never ends with nothing to keep its result in."""
    kind = profile.auth_kind
    if kind.keyring_secrets:
        vault.check()
    if kind is AuthKind.WEB:
        result = browser(profile, open_browser)
        return with_login(profile, result), secrets_after(profile, Secrets(), result)
    secrets = read_secrets(kind, secrets_stdin)
    if check:
        result = asyncio.run(check_login(profile, secrets))
        profile = with_login(profile, result)
    return profile, secrets


def keep_secrets(vault: CredentialVault, profile: Profile, secrets: Secrets) -> None:
    """The profile's secrets into the keyring (read back: a keyring that keeps nothing
    fails here); a kind that keeps none removes what an earlier kind of it had there."""
    if profile.auth_kind.keyring_secrets:
        vault.save(profile.name, secrets)
    else:
        with contextlib.suppress(KeyringUnavailableError):
            vault.delete(profile.name)


def said_login(profile: Profile) -> str:
    """``; logged in as ada@acme.com · Acme (production)`` once a login told it."""
    line = profile.org.line()
    return f"; logged in as {line}" if line else ""


def forget_login(profile: Profile) -> Profile:
    """Another org or login kind: what the last login said no longer holds."""
    return replace(profile, org=type(profile.org)())
