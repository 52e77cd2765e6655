"""Authenticated REST calls for discovery, limits and publish, over ``OAuthHttp``.

A ``RestClient`` takes an access token, or a token source (anything with the streaming
client's ``fetch_token(post_form)``: ``sfmonitor.auth`` sources, ``SfCliSource``), asked
again once when Salesforce answers 401. Errors keep Salesforce's ``errorCode`` and message
(``RestError``); queries follow ``nextRecordsUrl`` to the last page.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol
from urllib.parse import quote

from ..auth.http import OAuthHttp, PostForm, origin
from ..streaming.errors import AuthenticationError, TransportError

MAX_REST_BODY = 64 << 20  # describeGlobal of a big org runs to megabytes
MAX_PAGES = 1000  # 2,000,000 records at Salesforce's page size: far beyond any setup object

# errorCodes that mean "not for this user" (or "not in this org") rather than "broken"
PERMISSION_CODES = frozenset(
    {
        "INVALID_TYPE",  # a setup object queried without View Setup (SIR #1310, OrgCheck #144)
        "INSUFFICIENT_ACCESS",
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "FUNCTIONALITY_NOT_ENABLED",
        "API_DISABLED_FOR_ORG",
    }
)


class TokenSource(Protocol):
    async def fetch_token(self, post_form: PostForm) -> tuple[str, str]: ...


class RestError(Exception):
    """Salesforce refused a REST call: its ``errorCode`` and message, and the HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{code}: {self.short}" if code else f"HTTP {status}: {self.short}")

    @property
    def short(self) -> str:
        """The message's last line: a query error's pointer lines dropped."""
        lines = [line.strip() for line in self.message.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def permission(self) -> bool:
        return self.status == 403 or self.code in PERMISSION_CODES


def rest_error(status: int, data: Any) -> RestError:
    """A ``RestError`` from a REST error reply (a list of ``{errorCode, message}``)."""
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    if not first and isinstance(data, dict):
        first = data
    code = str(first.get("errorCode") or first.get("error") or "")
    message = str(first.get("message") or first.get("error_description") or "")
    return RestError(status, code, message or f"HTTP {status}")


class RestClient:
    """One org's REST API at one version (``api_version`` None: the newest it serves)."""

    def __init__(
        self,
        instance_url: str,
        token: str | TokenSource,
        api_version: str | None = None,
        http: OAuthHttp | None = None,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.http = http or OAuthHttp(max_body=MAX_REST_BODY)
        self._source: TokenSource | None = None if isinstance(token, str) else token
        self._token: str | None = token if isinstance(token, str) else None
        self._refresh = asyncio.Lock()
        self._version = api_version.lstrip("v") if api_version else None
        self.requests = 0

    def __repr__(self) -> str:
        return f"<RestClient {self.instance_url} v{self._version or '?'}>"

    async def token(self) -> str:
        if self._token is None:
            await self._fetch_token(None)
        assert self._token is not None
        return self._token

    async def _fetch_token(self, refused: str | None) -> None:
        """A new token from the source, once for all callers that saw ``refused`` fail."""
        async with self._refresh:
            if self._token is not None and self._token != refused:
                return
            if self._source is None:
                raise AuthenticationError(
                    "invalid_token", f"{self.instance_url} refused the access token (HTTP 401)"
                )
            token, instance = await self._source.fetch_token(self.http.post_form)
            self._token = token
            if not self.instance_url:
                self.instance_url = instance.rstrip("/")

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        """``path`` is absolute on the instance (``/services/data/…``). The reply's JSON, or
        RestError / AuthenticationError / TransportError."""
        for attempt in (1, 2):
            token = await self.token()
            self.requests += 1
            status, data = await self.http.call_json(method, self.instance_url + path, token, body)
            if status == 401 and attempt == 1 and self._source is not None:
                await self._fetch_token(token)
                continue
            if status == 401:
                raise AuthenticationError(
                    str(rest_error(status, data).code or "INVALID_SESSION_ID"),
                    f"{origin(self.instance_url)} refused the access token (HTTP 401)",
                    401,
                )
            if 200 <= status < 300:
                return data
            if data is None:
                raise TransportError(f"{origin(self.instance_url)} answered HTTP {status}")
            raise rest_error(status, data)
        raise AssertionError("unreachable")

    async def version(self) -> str:
        """The API version used: the one asked for, else the newest the org serves."""
        if self._version is None:
            data = await self.call("GET", "/services/data/")
            versions = [str(v.get("version")) for v in data if isinstance(v, dict)]
            if not versions:
                raise TransportError(f"{origin(self.instance_url)}: no API versions listed")
            self._version = max(versions, key=float)
        return self._version

    async def data_path(self, rest: str) -> str:
        return f"/services/data/v{await self.version()}/{rest.lstrip('/')}"

    async def get(self, rest: str) -> Any:
        """GET ``/services/data/vXX.X/<rest>``."""
        return await self.call("GET", await self.data_path(rest))

    async def post(self, rest: str, body: Any) -> Any:
        return await self.call("POST", await self.data_path(rest), body)

    async def query_all(self, soql: str, tooling: bool = False) -> list[dict[str, Any]]:
        """Every record of a query, following ``nextRecordsUrl`` page after page."""
        api = "tooling/query" if tooling else "query"
        page = await self.get(f"{api}/?q={quote(soql, safe='')}")
        records: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if not isinstance(page, dict) or not isinstance(page.get("records"), list):
                raise TransportError(f"{origin(self.instance_url)}: a query reply without records")
            records.extend(r for r in page["records"] if isinstance(r, dict))
            following = page.get("nextRecordsUrl")
            if page.get("done", True) or not following:
                return records
            if not isinstance(following, str) or not following.startswith("/services/data/"):
                raise TransportError(f"unexpected nextRecordsUrl {str(following)[:80]!r}")
            page = await self.call("GET", following)
        raise TransportError(f"a query ran past {MAX_PAGES} pages: {soql[:60]}")
