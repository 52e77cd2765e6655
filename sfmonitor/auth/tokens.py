"""A token endpoint's answer, checked, with the secrets kept out of reprs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..streaming.errors import AuthenticationError


@dataclass(frozen=True)
class Tokens:
    """What a login yields. ``refresh_token`` only from the web (and refresh) flows."""

    access_token: str = field(repr=False)
    instance_url: str
    id_url: str | None = None  # https://login…/id/<org id>/<user id>
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    issued_at: str | None = None

    @property
    def org_id(self) -> str | None:
        """The 18-character org id, from the identity URL."""
        parts = (self.id_url or "").rstrip("/").split("/")
        return parts[-2] if len(parts) >= 3 and parts[-3] == "id" else None

    @property
    def user_id(self) -> str | None:
        parts = (self.id_url or "").rstrip("/").split("/")
        return parts[-1] if len(parts) >= 3 and parts[-3] == "id" else None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_instance_url(instance_url: str, login_url: str) -> str:
    """The instance URL without a trailing slash, or AuthenticationError.

    It is where the access token will be sent: it must be HTTPS, except for a plain-HTTP
    login on this very machine (the emulator).
    """
    parts = urlsplit(instance_url)
    login = urlsplit(login_url)
    plain_ok = login.scheme == "http" and is_loopback(login.hostname or "")
    if not parts.hostname or parts.scheme not in (("https", "http") if plain_ok else ("https",)):
        raise AuthenticationError(
            "invalid_response", f"the token reply's instance_url {instance_url!r} is not HTTPS"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise AuthenticationError(
            "invalid_response", f"the token reply's instance_url {instance_url!r} is not local"
        )
    return instance_url.rstrip("/")


def parse_tokens(data: dict[str, Any], login_url: str) -> Tokens:
    """``Tokens`` from a token endpoint's JSON (already known to hold ``access_token``)."""
    token, instance = data.get("access_token"), data.get("instance_url")
    if data.get("token_type", "Bearer") != "Bearer":
        raise AuthenticationError(
            "invalid_response", f"unexpected token_type {data.get('token_type')!r}"
        )
    if not isinstance(token, str) or not token or not isinstance(instance, str):
        raise AuthenticationError(
            "invalid_response", "token response lacks access_token or instance_url"
        )

    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    return Tokens(
        access_token=token,
        instance_url=check_instance_url(instance, login_url),
        id_url=text("id"),
        refresh_token=text("refresh_token"),
        scope=text("scope"),
        issued_at=text("issued_at"),
    )
