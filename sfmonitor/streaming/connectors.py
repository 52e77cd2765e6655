"""How the client gets a token: the OAuth password flow, the refresh-token flow (the
seed's connectors), or any token source (``TokenSourceSalesforceStreaming``: browser login,
Salesforce CLI, JWT, client credentials; see ``sfmonitor.auth``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol

import aiohttp

from .core import BaseSalesforceStreaming
from .errors import AuthenticationError, MissingCredentialsError

JSONObject = dict[str, Any]
PostForm = Callable[[str, dict[str, str]], Awaitable[JSONObject]]

# What a blocking org answers to the password grant is what a wrong password gets
# (``invalid_grant`` / ``authentication failure``; the reason is only in Setup's login
# history), so the advice has to name both causes.
PASSWORD_REFUSED_HINT = (
    "Either the username, password or security token is wrong, or the org blocks the OAuth "
    "username-password flow (blocked by default in orgs created in Summer '23 or later, and "
    "never allowed for External Client Apps). Log in in the browser instead (auth kind 'web')"
)


class BaseConnector(BaseSalesforceStreaming):
    """Token from ``POST {login_url}/services/oauth2/token`` with a connected app's id/secret.

    Secrets live in ``self.credentials`` only; they never appear in reprs or errors.
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        login_connector: aiohttp.BaseConnector | None = None,
        **kwargs: Any,
    ) -> None:
        if client_id is None or client_secret is None:
            raise MissingCredentialsError("All credentials arguments are mandatory")
        self.login_connector = login_connector
        self.credentials: dict[str, str] = {"client_id": client_id, "client_secret": client_secret}
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} login_url={self.login_url!r} state={self.state.value}>"

    #: advice added to Salesforce's ``invalid_grant`` refusals, by error description
    #: ("*": any description)
    refusal_hints: ClassVar[dict[str, str]] = {}

    async def fetch_token(self) -> tuple[str, str]:
        try:
            data = await self._post_form(self.token_url, self.credentials, self.login_connector)
        except AuthenticationError as exc:
            hints = self.refusal_hints
            hint = hints.get(exc.description.lower(), hints.get("*", ""))
            if exc.error != "invalid_grant" or exc.hint or not hint:
                raise
            raise AuthenticationError(exc.error, exc.description, exc.status, hint) from None
        if data.get("token_type", "Bearer") != "Bearer":
            raise AuthenticationError(
                "invalid_response", f"unexpected token_type {data.get('token_type')!r}"
            )
        token, instance = data.get("access_token"), data.get("instance_url")
        if not isinstance(token, str) or not isinstance(instance, str):
            raise AuthenticationError(
                "invalid_response", "token response lacks access_token or instance_url"
            )
        self.on_token(data)
        return token, instance

    def on_token(self, data: dict[str, Any]) -> None:
        """Called with each token response (a rotated refresh token is kept)."""
        rotated = data.get("refresh_token")
        if isinstance(rotated, str) and "refresh_token" in self.credentials:
            self.credentials["refresh_token"] = rotated


class PasswordSalesforceStreaming(BaseConnector):
    """Username-password flow (``password`` = password + security token where required)."""

    def __init__(
        self, *, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if username is None or password is None:
            raise MissingCredentialsError("All credentials arguments are mandatory")
        super().__init__(**kwargs)
        self.credentials.update(
            {"grant_type": "password", "username": username, "password": password}
        )

    refusal_hints: ClassVar[dict[str, str]] = {"authentication failure": PASSWORD_REFUSED_HINT}


class RefreshTokenSalesforceStreaming(BaseConnector):
    """Refresh-token flow: a new access token whenever the old one is refused."""

    def __init__(self, *, refresh_token: str | None = None, **kwargs: Any) -> None:
        if refresh_token is None:
            raise MissingCredentialsError("All credentials arguments are mandatory")
        super().__init__(**kwargs)
        self.credentials.update({"grant_type": "refresh_token", "refresh_token": refresh_token})

    refusal_hints: ClassVar[dict[str, str]] = {
        "*": "The refresh token was revoked or has expired: log in again to get a new one "
        "(sfmonitor profiles login PROFILE)"
    }


class TokenSource(Protocol):
    """Anything that produces ``(access_token, instance_url)``, given the client's way of
    posting an OAuth form (``sfmonitor.auth`` sources; ``sf`` CLI orgs ignore it)."""

    async def fetch_token(self, post_form: PostForm) -> tuple[str, str]: ...


class TokenSourceSalesforceStreaming(BaseSalesforceStreaming):
    """A client whose token comes from a token source, asked again at every (re)connect
    and after a 401. ``login_url`` defaults to the source's."""

    def __init__(
        self,
        *,
        token_source: TokenSource,
        login_connector: aiohttp.BaseConnector | None = None,
        **kwargs: Any,
    ) -> None:
        self.token_source = token_source
        self.login_connector = login_connector
        kwargs.setdefault("login_url", getattr(token_source, "login_url", None))
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.token_source!r} state={self.state.value}>"

    async def fetch_token(self) -> tuple[str, str]:
        return await self.token_source.fetch_token(self._post_oauth_form)

    async def _post_oauth_form(self, url: str, form: dict[str, str]) -> JSONObject:
        return await self._post_form(url, form, self.login_connector)
