"""The emulator's browser login (authorize + authorization_code with PKCE), JWT bearer,
blocked password flow, userinfo, the Organization query and app registration, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import orjson
import pytest

from sfmonitor.emulator import (
    DEFAULT_CALLBACK_URL,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    ConnectedApp,
    Emulator,
)
from sfmonitor.emulator.__main__ import parse_args
from tests.emulator.conftest import MakeEmulator
from tests.emulator.test_oauth import PASSWORD_FORM, token

VERIFIER = "v" * 43 + "-._~0123456789"


def challenge(verifier: str = VERIFIER) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_query(**change: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": DEFAULT_CALLBACK_URL,
        "state": "st4te",
        "scope": "api refresh_token",
        "code_challenge": challenge(),
        "code_challenge_method": "S256",
    }
    query.update(change)
    return {k: v for k, v in query.items() if v}


async def authorize(url: str, **change: str) -> tuple[int, str, dict[str, str]]:
    """(status, body, parameters of the redirect) of GET /services/oauth2/authorize."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{url}/services/oauth2/authorize",
            params=authorize_query(**change),
            allow_redirects=False,
        ) as r,
    ):
        location = r.headers.get("Location", "")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if location:
            assert location.split("?")[0] == change.get("redirect_uri", DEFAULT_CALLBACK_URL)
        return r.status, await r.text(), answer


def code_form(issued: str, **change: str) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": issued,
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": DEFAULT_CALLBACK_URL,
        "code_verifier": VERIFIER,
    }
    form.update(change)
    return {k: v for k, v in form.items() if v}


@pytest.mark.asyncio
async def test_authorize_checks_before_redirecting(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    status, body, answer = await authorize(emu.url, client_id="unknown")
    assert status == 400 and not answer
    assert "error=invalid_client_id&amp;error_description=client+identifier+invalid" in body
    status, body, answer = await authorize(emu.url, redirect_uri="http://localhost:9/Other")
    assert status == 400 and not answer and "redirect_uri_mismatch" in body
    _, _, answer = await authorize(emu.url, response_type="token")
    assert answer == {
        "error": "unsupported_response_type",
        "error_description": "response type not supported",
        "state": "st4te",
    }
    _, _, answer = await authorize(emu.url, code_challenge_method="plain")
    assert answer["error"] == "invalid_request"
    _, _, answer = await authorize(emu.url, code_challenge="")
    assert answer["error_description"] == "missing required code challenge"
    status, _, answer = await authorize(emu.url)
    assert status == 302 and answer["state"] == "st4te" and answer["code"].startswith("aPrx")


@pytest.mark.asyncio
async def test_login_page_signs_in_a_user(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    status, body, answer = await authorize(emu.url)
    assert status == 200 and not answer and DEFAULT_USERNAME in body
    form = {**authorize_query(), "username": DEFAULT_USERNAME, "action": "allow"}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{emu.url}/services/oauth2/authorize",
            data={**form, "password": "wrong"},
            allow_redirects=False,
        ) as r:
            assert r.status == 200 and "check your username and password" in await r.text()
        async with http.post(
            f"{emu.url}/services/oauth2/authorize",
            data={**form, "password": DEFAULT_PASSWORD},
            allow_redirects=False,
        ) as r:
            code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    status, body = await token(emu.url, code_form(code))
    assert status == 200 and emu.org.check_token(body["access_token"]) == DEFAULT_USERNAME


@pytest.mark.asyncio
async def test_code_exchange(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    code = (await authorize(emu.url))[2]["code"]
    status, body = await token(emu.url, code_form(code))
    assert status == 200
    assert set(body) == {
        "access_token",
        "refresh_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
        "scope",
    }
    assert body["scope"] == "api refresh_token"
    assert emu.org.refresh_tokens[body["refresh_token"]] == (DEFAULT_USERNAME, DEFAULT_CLIENT_ID)
    # a code is used once
    assert await token(emu.url, code_form(code)) == (
        400,
        {"error": "invalid_grant", "error_description": "invalid authorization code"},
    )
    # no refresh token without the refresh_token scope
    code = (await authorize(emu.url, scope="api"))[2]["code"]
    status, body = await token(emu.url, code_form(code))
    assert status == 200 and "refresh_token" not in body


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "error", "description"),
    [
        ({"code_verifier": "w" * 43}, "invalid_grant", "invalid code verifier"),
        ({"code_verifier": ""}, "invalid_grant", "invalid code verifier"),
        (
            {"redirect_uri": "http://localhost:1718/OauthRedirect"},
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        ),
        ({"client_id": "other-app"}, "invalid_grant", "invalid authorization code"),
        ({"code": "aPrxmadeup"}, "invalid_grant", "invalid authorization code"),
        ({"client_secret": "wrong"}, "invalid_client", "invalid client credentials"),
    ],
)
async def test_code_exchange_refusals(
    make_emulator: MakeEmulator, change: dict[str, str], error: str, description: str
) -> None:
    emu = await make_emulator(auto_approve=True)
    emu.org.apps["other-app"] = ConnectedApp("other-app", "other-secret")
    code = (await authorize(emu.url))[2]["code"]
    assert await token(emu.url, code_form(code, **change)) == (
        400,
        {"error": error, "error_description": description},
    )


@pytest.mark.asyncio
async def test_codes_are_short_lived(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True, auth_code_ttl=60.0)
    code = (await authorize(emu.url))[2]["code"]
    emu.org.clock.advance(61)
    assert (await token(emu.url, code_form(code)))[1]["error_description"] == (
        "expired authorization code"
    )


@pytest.mark.asyncio
async def test_app_requiring_a_secret(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    emu.org.apps[DEFAULT_CLIENT_ID].require_secret_web_server = True
    code = (await authorize(emu.url))[2]["code"]
    assert (await token(emu.url, code_form(code)))[1] == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }
    code = (await authorize(emu.url))[2]["code"]
    status, _ = await token(emu.url, code_form(code, client_secret=DEFAULT_CLIENT_SECRET))
    assert status == 200


@pytest.mark.asyncio
async def test_blocked_password_flow_answers_like_a_wrong_password(
    make_emulator: MakeEmulator,
) -> None:
    emu = await make_emulator()
    assert (await token(emu.url, PASSWORD_FORM))[0] == 200
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.url}/__emulator/config", json={"block_password_flow": True}) as r,
    ):
        assert r.status == 200
    wrong = await token(emu.url, {**PASSWORD_FORM, "password": "wrong"})
    assert (
        await token(emu.url, PASSWORD_FORM)
        == wrong
        == (
            400,
            {"error": "invalid_grant", "error_description": "authentication failure"},
        )
    )
    assert parse_args(["--block-password-flow", "--auto-approve"]).block_password_flow


def _jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    return f"{part(header or {'alg': 'RS256'})}.{part(claims)}.c2ln"


@pytest.mark.asyncio
async def test_jwt_assertions_that_are_refused(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = {"iss": DEFAULT_CLIENT_ID, "sub": DEFAULT_USERNAME, "aud": emu.url, "exp": 2**40}
    cases = [
        ("not-a-jwt", "invalid_grant", "invalid assertion"),
        (_jwt({**claims, "iss": "nope"}), "invalid_client_id", "client identifier invalid"),
        (_jwt(claims, {"alg": "HS256"}), "invalid_grant", "invalid assertion"),
        (_jwt(claims), "invalid_grant", "invalid assertion"),  # the app has no certificate
    ]
    for assertion, error, description in cases:
        assert await token(emu.url, {"grant_type": grant, "assertion": assertion}) == (
            400,
            {"error": error, "error_description": description},
        )


@pytest.mark.asyncio
async def test_register_apps_through_the_control_api(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    async with aiohttp.ClientSession() as http:
        new = {"client_id": "ctl-app", "callback_urls": ["http://localhost:5555/OauthRedirect"]}
        async with http.post(f"{emu.url}/__emulator/apps", json=new) as r:
            assert r.status == 200
        for bad in ({"client_id": "x", "colour": "red"}, {"client_id": "x", "certificate": "no"}):
            async with http.post(f"{emu.url}/__emulator/apps", json=bad) as r:
                assert r.status == 400
    assert emu.org.apps["ctl-app"].callback_urls == ["http://localhost:5555/OauthRedirect"]
    assert "x" not in emu.org.apps


async def _get(emu: Emulator, path: str, token_: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{emu.url}{path}", headers={"Authorization": f"Bearer {token_}"}) as r,
    ):
        return r.status, await r.json()


@pytest.mark.asyncio
async def test_userinfo_and_organization_query(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(org_is_sandbox=True, org_type="Enterprise Edition")
    access = (await token(emu.url, PASSWORD_FORM))[1]["access_token"]
    status, info = await _get(emu, "/services/oauth2/userinfo", access)
    user = emu.org.users[DEFAULT_USERNAME]
    assert status == 200 and info["sub"] == f"{emu.url}/id/{emu.org.org_id}/{user.user_id}"
    assert info["organization_id"] == emu.org.org_id
    soql = "SELECT Id, Name, IsSandbox, OrganizationType FROM Organization"
    status, body = await _get(emu, "/services/data/v62.0/query?" + urlencode({"q": soql}), access)
    assert status == 200 and body["totalSize"] == 1
    record = body["records"][0]
    assert record["attributes"]["type"] == "Organization"
    assert {k: v for k, v in record.items() if k != "attributes"} == {
        "Id": emu.org.org_id,
        "Name": emu.org.config.org_name,
        "IsSandbox": True,
        "OrganizationType": "Enterprise Edition",
    }
    bad = urlencode({"q": "SELECT Colour FROM Organization"})
    status, body = await _get(emu, f"/services/data/v62.0/query?{bad}", access)
    assert status == 400 and body[0]["errorCode"] == "INVALID_FIELD"
    assert re.search(r"No such column 'Colour'", body[0]["message"])
    status, _ = await _get(emu, "/services/data/v62.0/query?" + urlencode({"q": soql}), "x")
    assert status == 401
