"""``/services/oauth2/authorize``: the browser half of the web-server flow (with PKCE).

Checks as Salesforce makes them: an unknown consumer key or a callback URL that is not one
of the app's (matched exactly) ends on an error page, since the redirect target cannot be
trusted; every later error goes back to the callback URL as ``error``/``error_description``
with the client's ``state``. A small login page signs in a user of the org (Allow / Deny);
``EmulatorConfig.auto_approve`` skips it and redirects at once with a code for the default
user. Codes are single-use, short-lived, and bound to the client, the callback URL and the
PKCE challenge.

Wordings seen in real traffic: ``redirect_uri must match configuration``, ``end-user denied
authorization``, ``client identifier invalid``. Assumed (not seen): the texts of the PKCE
refusals at this endpoint (``missing required code challenge``, ``invalid code challenge
method``).
"""

from __future__ import annotations

import hmac
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlencode

from aiohttp import web

from .config import ConnectedApp
from .ids import opaque_token
from .org import Org

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Login | Salesforce (emulator)</title></head>
<body style="font-family:sans-serif;max-width:26em;margin:3em auto">
<h2>{org}</h2><p>{app} is asking to access your data: {scope}</p>
<p style="color:#b00">{error}</p>
<form method="post" action="/services/oauth2/authorize">{hidden}
<p><label>Username <input name="username" value="{username}"></label></p>
<p><label>Password <input name="password" type="password"></label></p>
<p><button name="action" value="allow">Allow</button>
<button name="action" value="deny">Deny</button></p></form></body></html>
"""
PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)
BAD_LOGIN = (
    "Please check your username and password. If you still can't log in, contact your "
    "Salesforce administrator."
)


@dataclass
class AuthCode:
    client_id: str
    username: str
    redirect_uri: str
    challenge: str | None
    scope: str
    issued: float


class AuthCodes:
    """Authorization codes waiting for their exchange; ``take`` removes (single use)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._codes: dict[str, AuthCode] = {}

    def issue(self, app: ConnectedApp, username: str, params: dict[str, str]) -> str:
        code = "aPrx" + opaque_token(60)
        self._codes[code] = AuthCode(
            app.client_id,
            username,
            params["redirect_uri"],
            params.get("code_challenge") or None,
            params.get("scope") or "api refresh_token",
            self.org.clock.now(),
        )
        return code

    def take(self, code: str) -> tuple[AuthCode | None, bool]:
        """The code's grant (or None) and whether it had expired."""
        grant = self._codes.pop(code, None)
        if grant is None:
            return None, False
        expired = self.org.clock.now() - grant.issued > self.org.config.auth_code_ttl
        return grant, expired


def _error_page(error: str, description: str) -> web.Response:
    text = html.escape(urlencode({"error": error, "error_description": description}))
    return web.Response(
        status=400,
        content_type="text/html",
        text=f"<html><body><h2>OAuth Error</h2><p>{text}</p></body></html>",
    )


def _redirect(params: dict[str, str], answer: dict[str, str]) -> NoReturn:
    if params.get("state"):
        answer = {**answer, "state": params["state"]}
    location = params["redirect_uri"] + ("&" if "?" in params["redirect_uri"] else "?")
    raise web.HTTPFound(location + urlencode(answer))


class AuthorizeEndpoint:
    def __init__(self, org: Org, codes: AuthCodes) -> None:
        self.org = org
        self.codes = codes

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/services/oauth2/authorize", self.get),
            web.post("/services/oauth2/authorize", self.post),
        ]

    async def get(self, request: web.Request) -> web.Response:
        params = _pick(request.query)
        app = self._check(params)
        if isinstance(app, web.Response):
            return app
        if self.org.config.auto_approve:
            default_user = self.org.config.users[0].username
            _redirect(params, {"code": self.codes.issue(app, default_user, params)})
        return self._page(params, app, "")

    async def post(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = _pick(form)
        app = self._check(params)
        if isinstance(app, web.Response):
            return app
        if form.get("action") != "allow":
            _redirect(
                params,
                {"error": "access_denied", "error_description": "end-user denied authorization"},
            )
        username = str(form.get("username", ""))
        user = self.org.users.get(username)
        password = str(form.get("password", ""))
        if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
            return self._page(params, app, BAD_LOGIN)
        _redirect(params, {"code": self.codes.issue(app, username, params)})

    def _check(self, params: dict[str, str]) -> ConnectedApp | web.Response:
        """The app, or the answer to a request Salesforce refuses."""
        app = self.org.apps.get(params.get("client_id", ""))
        if app is None:
            return _error_page("invalid_client_id", "client identifier invalid")
        if params.get("redirect_uri") not in app.callback_urls:
            return _error_page("redirect_uri_mismatch", "redirect_uri must match configuration")
        if params.get("response_type") != "code":
            _redirect(
                params,
                {
                    "error": "unsupported_response_type",
                    "error_description": "response type not supported",
                },
            )
        method = params.get("code_challenge_method") or "S256"
        if method != "S256":
            _redirect(
                params,
                {"error": "invalid_request", "error_description": "invalid code challenge method"},
            )
        if app.require_pkce and not params.get("code_challenge"):
            _redirect(
                params,
                {
                    "error": "invalid_request",
                    "error_description": "missing required code challenge",
                },
            )
        return app

    def _page(self, params: dict[str, str], app: ConnectedApp, error: str) -> web.Response:
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items()
        )
        body = _PAGE.format(
            org=html.escape(self.org.config.org_name),
            app=html.escape(app.client_id),
            scope=html.escape(params.get("scope", "")),
            error=html.escape(error),
            hidden=hidden,
            username=html.escape(self.org.config.users[0].username),
        )
        return web.Response(text=body, content_type="text/html")


def _pick(source: Mapping[str, object]) -> dict[str, str]:
    return {k: v for k in PARAMS if isinstance(v := source.get(k), str) and v}
