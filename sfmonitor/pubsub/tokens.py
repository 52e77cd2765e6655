"""Where the three metadata values of every call come from: the access token, the instance
URL and the org id (``tenantid``). The connection asks for them on every call, so a
refreshed token applies to the next call without a new channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Credentials:
    access_token: str = field(repr=False)  # a secret: never in a repr, log or message
    instance_url: str
    tenant_id: str  # the org id

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("accesstoken", self.access_token),
            ("instanceurl", self.instance_url),
            ("tenantid", self.tenant_id),
        )


class TokenSource(Protocol):
    def current(self) -> Credentials:
        """The credentials to send now."""
        ...

    async def refresh(self) -> Credentials:
        """New credentials after the server refused the current ones (raises when it cannot)."""
        ...


class CallbackTokens:
    """A ``TokenSource`` from the current credentials and an async function that gets new
    ones (for example a refresh-token grant). Without one, a refusal cannot be repaired."""

    def __init__(
        self,
        credentials: Credentials,
        refresh: Callable[[], Awaitable[Credentials]] | None = None,
    ) -> None:
        self._credentials = credentials
        self._refresh = refresh
        self.refreshes = 0

    def current(self) -> Credentials:
        return self._credentials

    async def refresh(self) -> Credentials:
        if self._refresh is None:
            raise PermissionError("the access token was refused and cannot be refreshed")
        self._credentials = await self._refresh()
        self.refreshes += 1
        return self._credentials
