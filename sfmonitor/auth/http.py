"""The few HTTP calls of a login: an OAuth form POST and an authenticated JSON GET.

The streaming client posts its OAuth forms through ``BaseSalesforceStreaming._post_form``;
logins that run without a client (the browser login, "who am I") use ``OAuthHttp``, which
answers the same way: the parsed JSON, ``AuthenticationError`` for a refusal,
``TransportError`` for anything that is not a verdict (network, outage, proxy page).
Responses are bounded and redirects are never followed, so a form holding a code, a
verifier or a secret goes nowhere but the URL it was meant for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from ..streaming.errors import AuthenticationError, TransportError
from ..streaming.transport import HttpOptions, describe, read_bounded, ssl_context

JSONObject = dict[str, Any]
# (url, form) -> the token endpoint's JSON; BaseSalesforceStreaming._post_form has this shape
PostForm = Callable[[str, dict[str, str]], Awaitable[JSONObject]]

MAX_BODY = 1 << 20


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what an error may show of it (never a query)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class OAuthHttp:
    """OAuth and identity requests with the client's TLS, proxy and timeout options."""

    def __init__(self, options: HttpOptions | None = None, max_body: int = MAX_BODY) -> None:
        self.options = options or HttpOptions()
        self.max_body = max_body  # describeGlobal of a big org is larger than a login reply

    async def post_form(self, url: str, form: dict[str, str]) -> JSONObject:
        """POST an OAuth form; the JSON of a 200 reply holding ``access_token``."""
        status, data = await self._request("POST", url, data=form)
        if not isinstance(data, dict) or status >= 500:
            # an outage or a proxy page, not a verdict on the credentials: retried later
            raise TransportError(f"login to {origin(url)} failed: HTTP {status}")
        if status != 200 or "access_token" not in data:
            raise AuthenticationError(
                str(data.get("error", "error")), str(data.get("error_description", "")), status
            )
        return data

    async def get_json(self, url: str, token: str) -> Any:
        """GET with a bearer token; the JSON of a 200 reply."""
        status, data = await self._request("GET", url, headers={"Authorization": f"Bearer {token}"})
        if status in (401, 403):
            raise AuthenticationError(
                "invalid_token", f"{origin(url)} refused the access token (HTTP {status})", status
            )
        if status != 200 or data is None:
            detail = _rest_error(data)
            raise TransportError(
                f"{origin(url)} answered HTTP {status}" + (f": {detail}" if detail else "")
            )
        return data

    async def call_json(
        self, method: str, url: str, token: str, body: Any = None
    ) -> tuple[int, Any]:
        """An authenticated REST call (``body`` sent as JSON): the HTTP status and the parsed
        JSON (None when not JSON) whatever the status, so that the caller can read
        Salesforce's error list; ``TransportError`` when no answer came."""
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        return await self._request(method, url, headers=headers, body=payload)

    async def _request(
        self,
        method: str,
        url: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, Any]:
        opts = self.options
        timeout = aiohttp.ClientTimeout(
            total=opts.request_timeout, sock_connect=opts.connect_timeout
        )
        try:
            async with (
                aiohttp.ClientSession(
                    connector=opts.connector, connector_owner=opts.connector is None
                ) as http,
                http.request(
                    method,
                    url,
                    data=data if body is None else body,
                    headers={"Accept": "application/json", **(headers or {})},
                    timeout=timeout,
                    proxy=opts.proxy,
                    ssl=ssl_context(opts.ssl),
                    allow_redirects=False,
                ) as resp,
            ):
                if 300 <= resp.status < 400:
                    target = origin(resp.headers.get("Location", "")) or "elsewhere"
                    raise TransportError(
                        f"{origin(url)} redirected to {target}: use the org's My Domain URL "
                        "as login URL"
                    )
                reply = await read_bounded(resp, self.max_body)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransportError(f"request to {origin(url)} failed: {describe(exc)}") from exc
        try:
            return status, orjson.loads(reply)
        except orjson.JSONDecodeError:
            return status, None


def _rest_error(data: Any) -> str:
    """``errorCode: message`` of a REST error reply (a list of one error object)."""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return f"{data[0].get('errorCode', '')}: {data[0].get('message', '')}"
    return ""
