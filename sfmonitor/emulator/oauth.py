"""``POST /services/oauth2/token``: password, refresh_token and client_credentials grants,
with Salesforce's success and error JSON (reference §1.7-1.8)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson
from aiohttp import web

from .org import Org


def _error(error: str, description: str, status: int = 400) -> web.Response:
    return web.Response(
        body=orjson.dumps({"error": error, "error_description": description}),
        status=status,
        content_type="application/json",
    )


class TokenEndpoint:
    def __init__(self, org: Org, base_url: Any) -> None:
        self.org = org
        self.base_url = base_url  # callable(request) -> public base URL

    async def handle(self, request: web.Request) -> web.Response:
        self.org.token_requests += 1
        params: dict[str, str] = dict(request.query)
        if request.content_type == "application/x-www-form-urlencoded" or request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        grant = params.get("grant_type")
        if not grant:
            return _error("invalid_request", "grant type is missing")
        if grant not in ("password", "refresh_token", "client_credentials"):
            return _error("unsupported_grant_type", "grant type not supported")
        app = self.org.apps.get(params.get("client_id", ""))
        if app is None:
            return _error("invalid_client_id", "client identifier invalid")
        secret = params.get("client_secret")
        secret_required = grant != "refresh_token"
        if (secret_required or secret is not None) and not hmac.compare_digest(
            (secret or "").encode(), app.client_secret.encode()
        ):
            return _error("invalid_client", "invalid client credentials")
        refresh_token: str | None = None
        if grant == "password":
            user = self.org.users.get(params.get("username", ""))
            password = params.get("password", "")
            accepted = {user.password + user.security_token} if user else set()
            if user and self.org.config.trusted_ip:
                accepted.add(user.password)
            if user is None or password not in accepted:
                return _error("invalid_grant", "authentication failure")
            username = user.username
        elif grant == "refresh_token":
            entry = self.org.refresh_tokens.get(params.get("refresh_token", ""))
            if entry is None or entry[1] != app.client_id:
                return _error("invalid_grant", "expired access/refresh token")
            username = entry[0]
            refresh_token = None  # no rotation: the client keeps its refresh token
        else:
            if app.run_as not in self.org.users:
                return _error("invalid_grant", "no client credentials user enabled")
            username = app.run_as
        return self._success(
            request, username, app.client_id, app.client_secret, grant, refresh_token
        )

    def _success(
        self,
        request: web.Request,
        username: str,
        client_id: str,
        secret: str,
        grant: str,
        refresh_token: str | None,
    ) -> web.Response:
        base = self.base_url(request)
        user = self.org.users[username]
        token = self.org.issue_token(username, client_id)
        identity = f"{base}/id/{self.org.org_id}/{user.user_id}"
        issued_at = str(self.org.clock.now_ms())
        signature = base64.b64encode(
            hmac.new(secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        body: dict[str, Any] = {
            "access_token": token,
            "instance_url": base,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
        }
        if grant != "password":
            body["scope"] = "api refresh_token" if grant == "refresh_token" else "api"
        if refresh_token:
            body["refresh_token"] = refresh_token
        return web.Response(body=orjson.dumps(body), content_type="application/json")
