"""OAuth token endpoint: success shapes and Salesforce's exact error JSON (reference §1.7-1.8)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import aiohttp
import pytest

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    Emulator,
    User,
)

PASSWORD_FORM = {
    "grant_type": "password",
    "client_id": DEFAULT_CLIENT_ID,
    "client_secret": DEFAULT_CLIENT_SECRET,
    "username": DEFAULT_USERNAME,
    "password": DEFAULT_PASSWORD,
}


async def token(url: str, form: dict[str, str], in_query: bool = False) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        kwargs = {"params": form} if in_query else {"data": form}
        async with http.post(f"{url}/services/oauth2/token", **kwargs) as r:
            assert r.content_type == "application/json"
            return r.status, await r.json()


@pytest.mark.asyncio
async def test_password_grant_success_shape(emulator: Emulator) -> None:
    status, body = await token(emulator.url, PASSWORD_FORM)
    assert status == 200
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == emulator.url
    org_id, user_id = body["id"].rsplit("/", 2)[-2:]
    assert org_id.startswith("00D") and len(org_id) == 18
    assert user_id.startswith("005") and len(user_id) == 18
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13
    expected = base64.b64encode(
        hmac.new(
            DEFAULT_CLIENT_SECRET.encode(),
            (body["id"] + body["issued_at"]).encode(),
            hashlib.sha256,
        ).digest()
    ).decode()
    assert body["signature"] == expected
    assert body["access_token"].startswith(org_id[:15] + "!")


@pytest.mark.asyncio
async def test_params_in_query_string_are_accepted(emulator: Emulator) -> None:
    status, body = await token(emulator.url, PASSWORD_FORM, in_query=True)
    assert status == 200 and body["token_type"] == "Bearer"


@pytest.mark.asyncio
async def test_refresh_and_client_credentials_grants(emulator: Emulator) -> None:
    status, body = await token(
        emulator.url,
        {
            "grant_type": "refresh_token",
            "refresh_token": DEFAULT_REFRESH_TOKEN,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    )
    assert status == 200 and body["scope"] == "api refresh_token"
    status, body = await token(
        emulator.url,
        {
            "grant_type": "client_credentials",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    )
    assert status == 200 and body["access_token"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "error", "description"),
    [
        ({"grant_type": ""}, "invalid_request", "grant type is missing"),
        ({"grant_type": "magic"}, "unsupported_grant_type", "grant type not supported"),
        ({"client_id": "nope"}, "invalid_client_id", "client identifier invalid"),
        ({"client_secret": "wrong"}, "invalid_client", "invalid client credentials"),
        ({"password": "wrong"}, "invalid_grant", "authentication failure"),
        ({"username": "nobody@example.com"}, "invalid_grant", "authentication failure"),
        (
            {"grant_type": "refresh_token", "refresh_token": "stale"},
            "invalid_grant",
            "expired access/refresh token",
        ),
    ],
)
async def test_token_errors(
    emulator: Emulator, change: dict[str, str], error: str, description: str
) -> None:
    form = {k: v for k, v in {**PASSWORD_FORM, **change}.items() if v}
    status, body = await token(emulator.url, form)
    assert status == 400
    assert body == {"error": error, "error_description": description}


@pytest.mark.asyncio
async def test_security_token_required_from_untrusted_network(make_emulator: Any) -> None:
    emu = await make_emulator(
        users=[User("u@example.com", "pw", security_token="TOK")], trusted_ip=False
    )
    form = {**PASSWORD_FORM, "username": "u@example.com", "password": "pw"}
    assert (await token(emu.url, form))[0] == 400
    assert (await token(emu.url, {**form, "password": "pwTOK"}))[0] == 200


@pytest.mark.asyncio
async def test_revoked_and_expired_tokens_are_refused(make_emulator: Any) -> None:
    emu = await make_emulator(access_token_ttl=60.0)
    _, body = await token(emu.url, PASSWORD_FORM)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.url}/services/data/v62.0/limits/", headers=headers) as r:
            assert r.status == 200
        emu.org.clock.advance(61)
        async with http.get(f"{emu.url}/services/data/v62.0/limits/", headers=headers) as r:
            assert r.status == 401
            assert (await r.json())[0]["errorCode"] == "INVALID_SESSION_ID"
    _, body = await token(emu.url, PASSWORD_FORM)
    assert emu.revoke_tokens() >= 1
    assert emu.org.access_tokens[body["access_token"]].revoked
