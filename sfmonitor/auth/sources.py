"""Token sources: where a running capture gets a fresh access token, for each kind of login.

Each source has ``fetch(post_form) -> Tokens`` and, for the streaming client,
``fetch_token(post_form) -> (access_token, instance_url)``. ``post_form`` is how the form
reaches the token endpoint: the streaming client passes its own ``_post_form`` (one HTTP
policy for the whole client), a standalone login passes ``OAuthHttp().post_form``.

Secrets (refresh token, client secret, private key) live in the source only: its repr
shows the kind and the login URL, and errors carry Salesforce's words plus a hint.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from ..streaming.errors import AuthenticationError
from . import jwt
from .errors import CLIENT_CREDENTIALS, JWT, PASSWORD, REFRESH, explain
from .http import PostForm
from .tokens import Tokens, parse_tokens

log = logging.getLogger(__name__)


class OAuthSource:
    """A token from ``POST {login_url}/services/oauth2/token`` with a form of its kind."""

    kind = ""

    def __init__(self, login_url: str, client_id: str, profile: str | None = None) -> None:
        self.login_url = login_url.rstrip("/")
        self.client_id = client_id
        self.profile = profile  # named in "log in again" advice
        self.last: Tokens | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.login_url}>"

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    def form(self) -> dict[str, str]:
        raise NotImplementedError

    async def fetch(self, post_form: PostForm) -> Tokens:
        try:
            data = await post_form(self.token_url, self.form())
        except AuthenticationError as exc:
            raise explain(self.kind, exc, self.profile) from None
        self.last = parse_tokens(data, self.login_url)
        self.on_tokens(self.last)
        return self.last

    async def fetch_token(self, post_form: PostForm) -> tuple[str, str]:
        tokens = await self.fetch(post_form)
        return tokens.access_token, tokens.instance_url

    def on_tokens(self, tokens: Tokens) -> None:
        """Called with each new token response."""


class RefreshTokenSource(OAuthSource):
    """The refresh-token grant. Without ``client_secret`` it is a public client (the web
    login's refresh); a rotated refresh token replaces the old one and is handed to
    ``on_rotate`` so that the caller can save it (in the keyring)."""

    kind = REFRESH

    def __init__(
        self,
        login_url: str,
        client_id: str,
        refresh_token: str,
        *,
        client_secret: str | None = None,
        profile: str | None = None,
        on_rotate: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(login_url, client_id, profile)
        self._refresh_token = refresh_token
        self._client_secret = client_secret
        self.on_rotate = on_rotate

    def form(self) -> dict[str, str]:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": self._refresh_token,
        }
        if self._client_secret:
            form["client_secret"] = self._client_secret
        return form

    def on_tokens(self, tokens: Tokens) -> None:
        rotated = tokens.refresh_token
        if rotated and rotated != self._refresh_token:
            self._refresh_token = rotated
            log.info("Salesforce rotated the refresh token of %s", self.profile or self.login_url)
            if self.on_rotate is not None:
                self.on_rotate(rotated)


class JwtSource(OAuthSource):
    """The JWT bearer grant: a fresh signed assertion for every token (no refresh token).

    Made ``from_key_file``, the key is read from its file at the first login (a missing
    or unreadable file is a LoginError then, naming the file, not when the source is made)."""

    kind = JWT

    def __init__(
        self,
        login_url: str,
        client_id: str,
        username: str,
        private_key: rsa.RSAPrivateKey | None,
        *,
        audience: str | None = None,
        profile: str | None = None,
        key_file: str | Path | None = None,
        passphrase: bytes | None = None,
    ) -> None:
        super().__init__(login_url, client_id, profile)
        self.username = username
        self._key = private_key
        self.key_file = key_file
        self._passphrase = passphrase
        self.audience = (audience or self.login_url).rstrip("/")

    @classmethod
    def from_key_file(
        cls,
        login_url: str,
        client_id: str,
        username: str,
        key_file: str | Path,
        *,
        passphrase: bytes | None = None,
        audience: str | None = None,
        profile: str | None = None,
        lazy: bool = False,
    ) -> JwtSource:
        """A source signing with the key of ``key_file``: read now, or with ``lazy`` at
        the first login."""
        key = None if lazy else jwt.load_private_key(key_file, passphrase)
        return cls(
            login_url,
            client_id,
            username,
            key,
            audience=audience,
            profile=profile,
            key_file=key_file,
            passphrase=passphrase,
        )

    def form(self) -> dict[str, str]:
        if self._key is None:
            if self.key_file is None:
                raise ValueError("a JwtSource needs a private key or a key file")
            self._key = jwt.load_private_key(self.key_file, self._passphrase)
        signed = jwt.assertion(self._key, self.client_id, self.username, self.audience)
        return {"grant_type": jwt.GRANT_TYPE, "assertion": signed}


class ClientCredentialsSource(OAuthSource):
    """The client credentials grant: consumer key and secret of an app with a Run As user."""

    kind = CLIENT_CREDENTIALS

    def __init__(
        self, login_url: str, client_id: str, client_secret: str, *, profile: str | None = None
    ) -> None:
        super().__init__(login_url, client_id, profile)
        self._client_secret = client_secret

    def form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }


class PasswordSource(OAuthSource):
    """The legacy username-password grant (``password`` = password + security token where
    the org needs one). A refusal says that the org may block this flow (the default since
    Summer '23) and proposes the browser login (``explain``)."""

    kind = PASSWORD

    def __init__(
        self,
        login_url: str,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        *,
        profile: str | None = None,
    ) -> None:
        super().__init__(login_url, client_id, profile)
        self.username = username
        self._client_secret = client_secret
        self._password = password

    def form(self) -> dict[str, str]:
        return {
            "grant_type": "password",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "username": self.username,
            "password": self._password,
        }
