"""How the client gets a token: the OAuth password flow or the refresh-token flow."""

from __future__ import annotations

from typing import Any

import aiohttp

from .core import BaseSalesforceStreaming
from .errors import AuthenticationError


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
            raise TypeError("All credentials arguments are mandatory")
        self.login_connector = login_connector
        self.credentials: dict[str, str] = {"client_id": client_id, "client_secret": client_secret}
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} login_url={self.login_url!r} state={self.state.value}>"

    async def fetch_token(self) -> tuple[str, str]:
        data = await self._post_form(self.token_url, self.credentials, self.login_connector)
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
            raise TypeError("All credentials arguments are mandatory")
        super().__init__(**kwargs)
        self.credentials.update(
            {"grant_type": "password", "username": username, "password": password}
        )


class RefreshTokenSalesforceStreaming(BaseConnector):
    """Refresh-token flow: a new access token whenever the old one is refused."""

    def __init__(self, *, refresh_token: str | None = None, **kwargs: Any) -> None:
        if refresh_token is None:
            raise TypeError("All credentials arguments are mandatory")
        super().__init__(**kwargs)
        self.credentials.update({"grant_type": "refresh_token", "refresh_token": refresh_token})
