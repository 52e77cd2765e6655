"""HTTP for one CometD session: one aiohttp session and cookie jar (reference §2.3), bounded
responses (size decoded, total time), no redirects, and errors mapped to ``TransportError``
types. The rules themselves live in ``http``."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import orjson

from .batches import Rejected, parse_batch, parse_json, snippet
from .errors import HttpStatusError, MalformedResponseError, TransportError
from .http import (
    HttpOptions,
    ServerClock,
    SslOption,
    describe,
    new_session,
    read_bounded,
    refuse_redirect,
    ssl_context,
    timeouts,
)

__all__ = [
    "HttpOptions",
    "SslOption",
    "Transport",
    "describe",
    "parse_json",
    "read_bounded",
    "ssl_context",
]

log = logging.getLogger(__name__)


class Transport:
    """POSTs Bayeux batches for one CometD session; ``close()`` ends its cookie jar too."""

    def __init__(self, options: HttpOptions, token: str, clock: ServerClock | None = None) -> None:
        self.options = options
        self.token = token
        self.clock = clock or ServerClock()
        self._ssl = ssl_context(options.ssl)
        self.http = new_session(
            options.connector,
            # Cookies must come back even for IP-address hosts (an emulator, a proxy).
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )

    async def close(self) -> None:
        await self.http.close()

    async def post(
        self, url: str, messages: list[dict[str, Any]], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """Send a batch and return the reply messages (unreadable ones are logged)."""
        replies, rejected = await self.exchange(url, messages, timeout)
        for item in rejected:
            log.warning("a reply message could not be read (%s); skipped", item.reason)
        return replies

    async def exchange(
        self, url: str, messages: list[dict[str, Any]], timeout: float | None = None
    ) -> tuple[list[dict[str, Any]], list[Rejected]]:
        """Send a batch; the reply messages, and those of them that could not be read.

        ``timeout`` is the longest wait for the server (a held long poll); the whole
        exchange may take that plus ``request_timeout``, never more."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        wait = timeout or self.options.request_timeout
        total = wait + (self.options.request_timeout if timeout else 0.0)
        body = await self._request("POST", url, orjson.dumps(messages), headers, wait, total)
        try:
            return parse_batch(body)  # items are checked where they are read (core._iterate)
        except MalformedResponseError:
            raise MalformedResponseError(
                f"reply is not JSON: {snippet(self._scrub(body))}"
            ) from None

    def _scrub(self, body: bytes) -> bytes:
        """The body with our token blanked out, before any of it goes into an error text
        (a server may quote it back; a truncated quote would escape the log redactor)."""
        return body.replace(self.token.encode(), b"***") if self.token else body

    async def _request(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: dict[str, str],
        timeout: float,
        total: float,
    ) -> bytes:
        try:
            async with self.http.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeouts(self.options.connect_timeout, timeout, total),
                proxy=self.options.proxy,
                ssl=self._ssl,
                allow_redirects=False,
            ) as resp:
                self.clock.observe(resp)
                refuse_redirect(resp, "the CometD endpoint")
                body = await read_bounded(resp, self.options.max_response_bytes)
                if resp.status != 200:
                    raise HttpStatusError(resp.status, snippet(self._scrub(body)))
                return body
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransportError(describe(exc)) from exc
