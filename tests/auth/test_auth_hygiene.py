"""Secret hygiene of every kind of login: after browser, refresh, JWT, client-credentials and
sf CLI logins (and refusals of each), no secret, code, verifier, assertion, private key or
token is in the DEBUG log, in a repr, or in an error's text."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from sfmonitor.auth import (
    ClientCredentialsSource,
    JwtSource,
    LoginError,
    RefreshTokenSource,
    SfCli,
    SfCliSource,
    WebLogin,
    source_login,
)
from sfmonitor.auth.web import _code_of
from sfmonitor.emulator import DEFAULT_USERNAME, ConnectedApp, Emulator
from sfmonitor.emulator.oauth import register_app
from sfmonitor.streaming import AuthenticationError, TokenSourceSalesforceStreaming
from tests.auth.conftest import Browser, MakeEmulator
from tests.auth.test_sfcli import CLI_REFRESH_TOKEN, FakeSf
from tests.auth.test_sources import certificate_of, make_key, write_key

CLIENT_ID = "hygiene-consumer-key"
SECRET = "Cs-Auth-Hygiene-93kQ-Unique"


async def web(emu: Emulator, seen: dict[str, Any]) -> Any:
    browser = Browser()
    async with WebLogin(emu.url, CLIENT_ID, port=0) as login:
        url = await login.start()
        emu.org.apps[CLIENT_ID].callback_urls.append(login.redirect_uri)
        opening = asyncio.ensure_future(browser(url))
        tokens = await login.finish()
        await opening
        seen["objects"] += [login, login.receiver, tokens]
        seen["secrets"].append(login._pkce.verifier)
    code = browser.redirects[0].split("code=")[1].split("&")[0]
    seen["secrets"].append(code)
    # the same code again: refused, and the refusal does not repeat it
    try:
        await login.exchange(code)
    except LoginError as exc:
        seen["errors"].append(exc)
    return tokens


async def failures(emu: Emulator, seen: dict[str, Any], refresh_token: str) -> None:
    emu.revoke_tokens(refresh=True)
    sources = [
        RefreshTokenSource(emu.url, CLIENT_ID, refresh_token, client_secret=SECRET),
        ClientCredentialsSource(emu.url, CLIENT_ID, SECRET + "-wrong"),
        JwtSource(emu.url, CLIENT_ID, DEFAULT_USERNAME, make_key()),
    ]
    for source in sources:
        with pytest.raises(AuthenticationError) as caught:
            await TokenSourceSalesforceStreaming(token_source=source).start()
        seen["errors"].append(caught.value)
        seen["objects"].append(source)
    with pytest.raises(LoginError) as caught:
        from sfmonitor.auth.loopback import Answer

        _code_of(Answer(error="access_denied", description="end-user denied authorization"))
    seen["errors"].append(caught.value)


@pytest.mark.asyncio
async def test_no_secret_in_logs_reprs_or_errors(
    make_emulator: MakeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = await make_emulator(auto_approve=True)
    key = make_key()
    emu.org.apps[CLIENT_ID] = ConnectedApp(CLIENT_ID, SECRET, run_as=DEFAULT_USERNAME)
    register_app(emu.org, {"client_id": CLIENT_ID, "certificate": certificate_of(key)})
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    seen: dict[str, Any] = {"objects": [], "errors": [], "secrets": [SECRET, CLI_REFRESH_TOKEN]}
    seen["secrets"] += [line for line in pem.splitlines() if "-----" not in line]

    tokens = await web(emu, seen)
    assert tokens.refresh_token
    seen["secrets"].append(tokens.refresh_token)
    key_file = write_key(key, tmp_path / "key.pem")
    fake = FakeSf(tmp_path, emu)
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    for source in (
        RefreshTokenSource(emu.url, CLIENT_ID, tokens.refresh_token),
        ClientCredentialsSource(emu.url, CLIENT_ID, SECRET),
        JwtSource.from_key_file(emu.url, CLIENT_ID, DEFAULT_USERNAME, key_file),
        SfCliSource("emu", SfCli(str(fake.path))),
    ):
        result = await source_login(source)
        seen["objects"] += [source, result, result.tokens, result.identity]
    await failures(emu, seen, tokens.refresh_token)

    seen["secrets"] += list(emu.org.access_tokens)  # every access token issued
    assert len(emu.org.access_tokens) >= 5 and len(seen["errors"]) == 5
    texts = [caplog.text]
    texts += [repr(o) for o in seen["objects"]] + [str(o) for o in seen["objects"]]
    texts += [str(e) for e in seen["errors"]] + [repr(e) for e in seen["errors"]]
    texts += [str(getattr(e, "hint", "")) for e in seen["errors"]]
    assert "web login" in caplog.text or "login" in caplog.text  # something was logged
    for secret in seen["secrets"]:
        assert len(secret) >= 8
        for text in texts:
            assert secret not in text
    assert "eyJ" not in "".join(texts)  # no JWT assertion (base64 of '{"')
