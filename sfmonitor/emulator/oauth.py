"""``POST /services/oauth2/token``: the password, refresh_token, client_credentials,
authorization_code (with PKCE) and JWT bearer grants, with Salesforce's success and error
JSON (reference §1.7-1.8; auth-and-discovery.md §2)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from typing import Any

import orjson
from aiohttp import web

from .authorize import AuthCodes
from .config import ConnectedApp
from .ids import opaque_token
from .jwt_bearer import Refusal, check_assertion, public_key_of
from .org import Org

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GRANTS = ("password", "refresh_token", "client_credentials", "authorization_code", JWT_GRANT)


def register_app(org: Org, fields: dict[str, Any]) -> ConnectedApp:
    """Add or change a connected app (the control API's ``/__emulator/apps``); a
    certificate that holds no RSA key is refused here rather than at the first login."""
    unknown = set(fields) - {f.name for f in dataclasses.fields(ConnectedApp)}
    if unknown:
        raise ValueError(f"unknown app fields: {', '.join(sorted(unknown))}")
    current = org.apps.get(str(fields["client_id"]))
    if current is not None:
        app = dataclasses.replace(current, **fields)
    else:
        app = ConnectedApp(**{"client_secret": opaque_token(64), **fields})
    if app.certificate:
        public_key_of(app.certificate)
    org.apps[app.client_id] = app
    return app


def pkce_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding (RFC 7636, S256)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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
        self.codes = AuthCodes(org)  # issued by AuthorizeEndpoint, taken here

    async def handle(self, request: web.Request) -> web.Response:
        self.org.token_requests += 1
        params: dict[str, str] = dict(request.query)
        if request.content_type == "application/x-www-form-urlencoded" or request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        grant = params.get("grant_type")
        if not grant:
            return _error("invalid_request", "grant type is missing")
        if grant not in GRANTS:
            return _error("unsupported_grant_type", "grant type not supported")
        if grant == JWT_GRANT:
            return self._jwt(request, params)
        app = self.org.apps.get(params.get("client_id", ""))
        if app is None:
            return _error("invalid_client_id", "client identifier invalid")
        secret = params.get("client_secret")
        secret_required = {
            "refresh_token": app.require_secret_refresh,
            "authorization_code": app.require_secret_web_server,
        }.get(grant, True)
        if (secret_required or secret is not None) and not hmac.compare_digest(
            (secret or "").encode(), app.client_secret.encode()
        ):
            return _error("invalid_client", "invalid client credentials")
        if grant == "authorization_code":
            return self._code(request, app.client_id, app.client_secret, params)
        if grant == "password" and self.org.config.block_password_flow:
            # exactly what a wrong password gets: the org does not say why
            return _error("invalid_grant", "authentication failure")
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
            if app.rotate_refresh_token:
                del self.org.refresh_tokens[params["refresh_token"]]
                refresh_token = "5Aep" + opaque_token(80)
                self.org.refresh_tokens[refresh_token] = entry
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
        scope: str | None = None,
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
            body["scope"] = scope or ("api refresh_token" if grant == "refresh_token" else "api")
        if refresh_token:
            body["refresh_token"] = refresh_token
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    def _code(
        self, request: web.Request, client_id: str, secret: str, params: dict[str, str]
    ) -> web.Response:
        """``authorization_code``: the code once, from the same client and callback URL,
        with the verifier of its PKCE challenge."""
        grant, expired = self.codes.take(params.get("code", ""))
        if grant is None or grant.client_id != client_id:
            return _error("invalid_grant", "invalid authorization code")
        if expired:
            return _error("invalid_grant", "expired authorization code")
        if params.get("redirect_uri") != grant.redirect_uri:
            return _error("redirect_uri_mismatch", "redirect_uri must match configuration")
        verifier = params.get("code_verifier", "")
        if grant.challenge is not None and not (
            verifier and hmac.compare_digest(pkce_challenge(verifier), grant.challenge)
        ):
            return _error("invalid_grant", "invalid code verifier")
        refresh_token = None
        if {"refresh_token", "offline_access"} & set(grant.scope.split()):
            refresh_token = "5Aep" + opaque_token(80)
            self.org.refresh_tokens[refresh_token] = (grant.username, client_id)
        return self._success(
            request,
            grant.username,
            client_id,
            secret,
            "authorization_code",
            refresh_token,
            grant.scope,
        )

    def _jwt(self, request: web.Request, params: dict[str, str]) -> web.Response:
        audiences = {self.base_url(request).rstrip("/"), *self.org.config.jwt_audiences}
        try:
            app, username = check_assertion(self.org, params.get("assertion", ""), audiences)
        except Refusal as refusal:
            return _error(refusal.error, refusal.description)
        return self._success(request, username, app.client_id, app.client_secret, JWT_GRANT, None)
