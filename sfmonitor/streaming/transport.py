"""HTTP for one CometD session: one aiohttp session and cookie jar (reference §2.3), bounded
responses, and errors mapped to ``TransportError`` types."""

from __future__ import annotations

import asyncio
import json
import ssl as ssl_module
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from .errors import HttpStatusError, MalformedResponseError, ResponseTooLargeError, TransportError

SslOption = bool | str | ssl_module.SSLContext


def ssl_context(option: SslOption) -> ssl_module.SSLContext | bool:
    """``True``: verify with the system CAs; ``False``: no verification (never the default);
    a path: verify with that CA bundle; a context: used as given."""
    if isinstance(option, str):
        return ssl_module.create_default_context(cafile=option)
    return option


@dataclass
class HttpOptions:
    ssl: SslOption = True
    proxy: str | None = None
    connect_timeout: float = 30.0  # TCP/TLS connect
    request_timeout: float = 60.0  # handshake, subscribe, OAuth, REST
    max_response_bytes: int = 64 << 20  # one connect reply may be big (§4.6), not unbounded
    connector: aiohttp.BaseConnector | None = None  # seed's connector= argument


def parse_json(body: bytes) -> Any:
    """orjson, or the standard parser for what orjson refuses but JSON allows: an escaped
    lone surrogate (``"\\ud800"``) in a text field. Refusing it would refuse the whole
    reply, and the same events would come back forever; the stream would be dead."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedResponseError(f"reply is not JSON: {_snippet(body)}") from exc


class Transport:
    """POSTs Bayeux batches for one CometD session; ``close()`` ends its cookie jar too."""

    def __init__(self, options: HttpOptions, token: str) -> None:
        self.options = options
        self.token = token
        self._ssl = ssl_context(options.ssl)
        self.http = aiohttp.ClientSession(
            connector=options.connector,
            connector_owner=options.connector is None,
            # Cookies must come back even for IP-address hosts (an emulator, a proxy).
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )

    async def close(self) -> None:
        await self.http.close()

    async def post(
        self, url: str, messages: list[dict[str, Any]], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """Send a batch and return the reply messages."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        body = await self._request(
            "POST", url, orjson.dumps(messages), headers, timeout or self.options.request_timeout
        )
        data = parse_json(body)
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise MalformedResponseError(f"reply is not a Bayeux message array: {_snippet(body)}")
        return data  # items are checked where they are read (BaseSalesforceStreaming._iterate)

    async def _request(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> bytes:
        client_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.options.connect_timeout, sock_read=timeout
        )
        try:
            async with self.http.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=client_timeout,
                proxy=self.options.proxy,
                ssl=self._ssl,
            ) as resp:
                body = await read_bounded(resp, self.options.max_response_bytes)
                if resp.status != 200:
                    raise HttpStatusError(resp.status, _snippet(body))
                return body
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransportError(describe(exc)) from exc


async def read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, or ResponseTooLargeError as soon as it passes ``limit`` bytes."""
    if resp.content_length is not None and resp.content_length > limit:
        raise ResponseTooLargeError(
            f"response of {resp.content_length:,} bytes exceeds the limit of {limit:,}"
        )
    if resp.content_length is not None:
        return await resp.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(f"response exceeds the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def describe(exc: BaseException) -> str:
    """A short, secret-free description of a transport exception."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out waiting for the server"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate not trusted: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "connection lost in the middle of the response"
    return f"{type(exc).__name__}: {exc}"


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return " ".join(text.split())
