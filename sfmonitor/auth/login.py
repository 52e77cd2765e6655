"""One call per kind of login, for the CLI and the window: each returns a ``LoginResult``
(the tokens, and who and where the login is)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import WEB
from .http import OAuthHttp, PostForm
from .identity import Identity, identify
from .loopback import DEFAULT_PORT
from .sfcli import SfCli, SfCliSource
from .sources import ClientCredentialsSource, JwtSource, RefreshTokenSource
from .tokens import Tokens
from .web import DEFAULT_TIMEOUT, OpenBrowser, WebLogin, system_browser

log = logging.getLogger(__name__)


class Source(Protocol):
    kind: str

    async def fetch(self, post_form: PostForm) -> Tokens: ...


@dataclass(frozen=True)
class LoginResult:
    """A login that worked. ``tokens`` hold secrets (kept out of the repr); ``identity`` is
    None only when the caller did not ask for it."""

    kind: str
    tokens: Tokens
    identity: Identity | None

    @property
    def refresh_token(self) -> str | None:
        """What a web login leaves to keep (in the keyring) for later connects."""
        return self.tokens.refresh_token


async def web_login(
    login_url: str,
    client_id: str,
    *,
    port: int = DEFAULT_PORT,
    open_browser: OpenBrowser | None = system_browser,
    on_url: Callable[[str], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    http: OAuthHttp | None = None,
    with_identity: bool = True,
) -> LoginResult:
    """Browser login with PKCE; ``on_url`` receives the authorize URL to show (it works
    when no browser can be opened), ``open_browser`` opens it (None: do not)."""
    http = http or OAuthHttp()
    opening: asyncio.Future[bool] | None = None
    async with WebLogin(login_url, client_id, port=port, timeout=timeout, http=http) as login:
        url = await login.start()
        if on_url is not None:
            on_url(url)
        if open_browser is not None:
            opening = asyncio.ensure_future(open_browser(url))
            opening.add_done_callback(_report_browser)
        try:
            tokens = await login.finish()
        finally:
            if opening is not None and not opening.done():
                opening.cancel()  # a terminal browser may still run: the login is over
    return await _result(WEB, tokens, http, with_identity)


async def source_login(
    source: Source, http: OAuthHttp | None = None, with_identity: bool = True
) -> LoginResult:
    """Log in with a token source (refresh token, JWT, client credentials, sf CLI)."""
    http = http or OAuthHttp()
    tokens = await source.fetch(http.post_form)
    return await _result(source.kind, tokens, http, with_identity)


async def refresh_login(
    login_url: str, client_id: str, refresh_token: str, *, profile: str | None = None
) -> LoginResult:
    return await source_login(
        RefreshTokenSource(login_url, client_id, refresh_token, profile=profile)
    )


async def jwt_login(
    login_url: str, client_id: str, username: str, key_file: str | Path
) -> LoginResult:
    return await source_login(JwtSource.from_key_file(login_url, client_id, username, key_file))


async def client_credentials_login(
    login_url: str, client_id: str, client_secret: str
) -> LoginResult:
    return await source_login(ClientCredentialsSource(login_url, client_id, client_secret))


async def sf_cli_login(target: str, executable: str | None = None) -> LoginResult:
    return await source_login(SfCliSource(target, SfCli(executable)))


async def _result(kind: str, tokens: Tokens, http: OAuthHttp, with_identity: bool) -> LoginResult:
    identity = (
        await identify(tokens.instance_url, tokens.access_token, http) if with_identity else None
    )
    if identity is not None:
        log.info(
            "%s login: %s in %s (%s, %s)",
            kind,
            identity.username,
            identity.org_name or identity.org_id,
            identity.org_id,
            identity.kind,
        )
    return LoginResult(kind, tokens, identity)


def _report_browser(opening: asyncio.Future[bool]) -> None:
    if opening.cancelled():
        return
    error = opening.exception()
    if error is not None or not opening.result():
        log.warning("no web browser could be opened (%s): open the login URL shown", error)
