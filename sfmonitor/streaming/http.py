"""The rules every HTTP request of the client follows, whoever answers it.

A monitor holds production credentials and runs unattended, so the server is not trusted
to be well-behaved (issue 13):

- no redirect is ever followed: a 307/308 re-posts the body (a password, a client secret)
  and every redirect may go to another origin or from https to http; a redirect is an error
  naming where it pointed (``RedirectRefusedError``);
- replies are decompressed here, not by aiohttp, and the bound on a reply's size holds on
  the DECODED bytes: a 1 MB gzip body that inflates to 1 GiB stops at the limit, with the
  memory of the limit, not of the bomb;
- every request has a bound on its total time as well as on the gap between two reads, so
  a reply trickled a byte at a time still ends;
- the server's ``Date`` header is read (``ServerClock``): times the server sends (event
  creation dates) are compared with the server's own clock, never with ours.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl as ssl_module
import time
import zlib
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from .errors import (
    MalformedResponseError,
    RedirectRefusedError,
    ResponseTooLargeError,
    TransportError,
)

# We decode these ourselves; br/zstd are never asked for, so never expected.
ACCEPT_ENCODING = "gzip, deflate"
_CHUNK = 1 << 16

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
    request_timeout: float = 60.0  # handshake, subscribe, OAuth, REST: the whole exchange
    max_response_bytes: int = 64 << 20  # one connect reply may be big (§4.6), not unbounded
    connector: aiohttp.BaseConnector | None = None  # seed's connector= argument


def new_session(
    connector: aiohttp.BaseConnector | None = None, **kwargs: Any
) -> aiohttp.ClientSession:
    """An aiohttp session that leaves decompression to ``read_bounded``."""
    headers = {"Accept-Encoding": ACCEPT_ENCODING, **kwargs.pop("headers", {})}
    return aiohttp.ClientSession(
        connector=connector,
        connector_owner=connector is None,
        auto_decompress=False,
        headers=headers,
        **kwargs,
    )


def timeouts(connect: float, read: float, total: float) -> aiohttp.ClientTimeout:
    """``read`` bounds the gap between two reads, ``total`` the whole exchange."""
    return aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)


def origin(url: str | URL) -> str:
    """``scheme://host[:port]`` of a URL (nothing else of it: a path may hold a secret)."""
    u = URL(url) if isinstance(url, str) else url
    if not u.is_absolute() or not u.host:
        return "(no valid address)"
    default = {"http": 80, "https": 443}.get(u.scheme)
    port = "" if u.port in (None, default) else f":{u.port}"
    return f"{u.scheme}://{u.host}{port}"


def refuse_redirect(resp: aiohttp.ClientResponse, what: str) -> None:
    """Raise ``RedirectRefusedError`` for a 3xx reply (requests never follow them)."""
    if 300 <= resp.status < 400 and resp.status != 304:
        location = resp.headers.get("Location", "")
        target = origin(resp.url.join(URL(location))) if location else "(no Location)"
        raise RedirectRefusedError(
            f"{what} answered with a redirect (HTTP {resp.status}) to {target}; not followed: "
            "credentials and tokens are only sent to the address configured"
        )


def _decoder(encoding: str) -> Any:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or zlib header, detected
    raise MalformedResponseError(f"reply uses an unsupported Content-Encoding: {encoding[:40]!r}")


async def read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole (decoded) body, or ``ResponseTooLargeError`` as soon as it would pass
    ``limit`` bytes, compressed or decoded. The session must not decompress by itself
    (``new_session``); a raw-deflate body (no zlib header) is accepted too."""
    too_large = f"response exceeds the limit of {limit:,} bytes"
    if resp.content_length is not None and resp.content_length > limit:
        raise ResponseTooLargeError(
            f"response of {resp.content_length:,} bytes exceeds the limit of {limit:,}"
        )
    decoder = _decoder(resp.headers.get("Content-Encoding", ""))
    out = bytearray()
    received = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        received += len(chunk)
        if received > limit:
            raise ResponseTooLargeError(too_large)
        if decoder is None:
            out += chunk
            continue
        data = chunk
        while data:
            try:
                # never more than what still fits (+1 to notice the overflow)
                out += decoder.decompress(data, limit - len(out) + 1)
            except zlib.error:
                if received != len(chunk) or out:
                    raise MalformedResponseError("compressed reply is corrupt") from None
                decoder = zlib.decompressobj(wbits=-15)  # deflate without a zlib header
                continue
            if len(out) > limit:
                raise ResponseTooLargeError(too_large + " once decompressed")
            data = decoder.unconsumed_tail
            if decoder.eof:
                break
    if decoder is not None and not decoder.eof and received:
        raise MalformedResponseError("compressed reply is truncated")
    return bytes(out)


class ServerClock:
    """The server's time, as well as we know it: our clock plus the offset measured from
    the ``Date`` header of its latest reply (one-second resolution: good to about a second
    plus the network delay). ``known`` is False until a reply carried a usable ``Date``."""

    def __init__(self) -> None:
        self.offset: float | None = None

    @property
    def known(self) -> bool:
        return self.offset is not None

    def observe(self, resp: aiohttp.ClientResponse, received: float | None = None) -> None:
        value = resp.headers.get("Date")
        if not value:
            return
        try:
            sent = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        # the header is truncated to the second: the server's time was in [sent, sent + 1)
        self.offset = sent + 0.5 - (time.time() if received is None else received)

    def now(self) -> float:
        """Epoch seconds by the server's clock (ours when it is not known yet)."""
        return time.time() + (self.offset or 0.0)


async def fetch_once(
    method: str,
    url: str,
    options: HttpOptions,
    *,
    what: str,
    limit: int,
    data: Any = None,
    headers: dict[str, str] | None = None,
    connector: aiohttp.BaseConnector | None = None,
) -> tuple[int, bytes]:
    """One request in a session of its own (an OAuth form, a REST GET): no redirect
    followed, the decoded body bounded to ``limit``, the whole exchange to
    ``request_timeout``. Returns ``(status, body)``; TransportError types on failure."""
    opts = options
    try:
        async with (
            new_session(connector) as http,
            http.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeouts(opts.connect_timeout, opts.request_timeout, opts.request_timeout),
                proxy=opts.proxy,
                ssl=ssl_context(opts.ssl),
                allow_redirects=False,
            ) as resp,
        ):
            refuse_redirect(resp, what)
            try:
                body = await read_bounded(resp, limit)
            except (ResponseTooLargeError, MalformedResponseError) as exc:
                raise type(exc)(f"{what}: {exc}") from exc
            return resp.status, body
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TransportError(f"{what} failed: {describe(exc)}") from exc


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
