"""How a profile logs in: the token source of its kind, a login now (``profiles add`` and
``profiles login``, the window's profile dialog), and what the org said of itself, as it
is kept on the profile (``OrgInfo``).

Secrets come from ``Secrets`` (the keyring's, or typed for this session) and go only into
the token sources (``sfmonitor.auth``), which keep them out of reprs and errors. An
``sf-cli`` profile has no secret of ours (the CLI keeps its login); a ``jwt`` profile's
key is read from its file at each login.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from sfmonitor.auth import (
    DEFAULT_TIMEOUT,
    ClientCredentialsSource,
    Identity,
    JwtSource,
    LoginResult,
    OAuthHttp,
    OAuthSource,
    PasswordSource,
    RefreshTokenSource,
    SfCli,
    SfCliSource,
    source_login,
    system_browser,
    web_login,
)
from sfmonitor.auth.web import OpenBrowser
from sfmonitor.store import AuthKind, OrgInfo, Profile, Secrets

log = logging.getLogger(__name__)

__all__ = [
    "browser_login",
    "check_login",
    "org_info",
    "secrets_after",
    "token_source",
    "with_login",
]


def token_source(
    profile: Profile,
    secrets: Secrets,
    on_rotate: Callable[[str], None] | None = None,
    sf: SfCli | None = None,
) -> OAuthSource | SfCliSource:
    """Where ``profile``'s access tokens come from (asked at every connect and after a
    401). ``on_rotate`` receives a refresh token that Salesforce replaced."""
    kind, url, name = profile.auth_kind, profile.login_url, profile.name
    if kind is AuthKind.WEB or kind is AuthKind.REFRESH_TOKEN:
        return RefreshTokenSource(
            url,
            profile.client_id,
            secrets.refresh_token,
            client_secret=secrets.client_secret or None,  # a web login's app has none
            profile=name,
            on_rotate=on_rotate,
        )
    if kind is AuthKind.SF_CLI:
        return SfCliSource(profile.sf_org, sf or SfCli(), profile=name)
    if kind is AuthKind.JWT:
        return JwtSource.from_key_file(
            url, profile.client_id, profile.username, profile.key_file, profile=name, lazy=True
        )
    if kind is AuthKind.CLIENT_CREDENTIALS:
        return ClientCredentialsSource(url, profile.client_id, secrets.client_secret, profile=name)
    return PasswordSource(
        url,
        profile.client_id,
        secrets.client_secret,
        profile.username,
        secrets.password,
        profile=name,
    )


def org_info(identity: Identity) -> OrgInfo:
    """What a profile keeps of a login's identity: no token, only names and the org kind."""
    return OrgInfo(
        org_id=identity.org_id,
        org_name=identity.org_name or "",
        user=identity.username,
        kind=identity.kind,
    )


def secrets_after(profile: Profile, secrets: Secrets, result: LoginResult) -> Secrets:
    """The secrets to keep after ``result``: a browser login leaves a new refresh token."""
    if profile.auth_kind is AuthKind.WEB and result.refresh_token:
        return replace(secrets, refresh_token=result.refresh_token)
    return secrets


def with_login(profile: Profile, result: LoginResult) -> Profile:
    """``profile`` knowing who and where ``result`` logged in (an ``sf-cli`` profile also
    learns its instance URL, where its tokens are used)."""
    if result.identity is not None:
        profile = replace(profile, org=org_info(result.identity))
    if profile.auth_kind is AuthKind.SF_CLI:
        profile = replace(profile, login_url=result.tokens.instance_url)
    return profile


async def browser_login(
    profile: Profile,
    *,
    open_browser: OpenBrowser | None = system_browser,
    on_url: Callable[[str], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> LoginResult:
    """The browser login of a ``web`` profile: its login URL, consumer key and callback
    port; the result holds the refresh token to keep and who and where the login is."""
    return await web_login(
        profile.login_url,
        profile.client_id,
        port=profile.callback_port,
        open_browser=open_browser,
        on_url=on_url,
        timeout=timeout,
    )


async def check_login(
    profile: Profile, secrets: Secrets, http: OAuthHttp | None = None, sf: SfCli | None = None
) -> LoginResult:
    """Log in once with what the profile has (not the browser: see ``browser_login``),
    asking who and where the login is. Raises the login's refusal, in words."""
    return await source_login(token_source(profile, secrets, sf=sf), http)
