"""Token sources against the emulator: refresh without a secret, a revoked refresh token,
JWT with a key made here, client credentials, the password flow of a blocking org; and a
streaming client that takes its tokens from a source."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sfmonitor.auth import (
    JwtSource,
    LoginError,
    LoginRequired,
    OAuthHttp,
    RefreshTokenSource,
    client_credentials_login,
    jwt_login,
    refresh_login,
    source_login,
)
from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    ConnectedApp,
)
from sfmonitor.emulator.oauth import register_app
from sfmonitor.streaming import (
    AuthenticationError,
    PasswordSalesforceStreaming,
    RefreshTokenSalesforceStreaming,
    TokenSourceSalesforceStreaming,
)
from tests.auth.conftest import MakeEmulator

JWT_APP = "jwt-app-consumer-key"


def make_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_of(key: rsa.RSAPrivateKey) -> str:
    """A self-signed certificate, as uploaded to an app with 'Use digital signatures'."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfmonitor test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def write_key(key: rsa.RSAPrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


# --- refresh token (public client) -----------------------------------------------------


@pytest.mark.asyncio
async def test_refresh_without_a_secret(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    result = await refresh_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN)
    assert emu.org.check_token(result.tokens.access_token) == DEFAULT_USERNAME
    assert result.identity is not None and result.identity.org_id == emu.org.org_id


@pytest.mark.asyncio
async def test_app_that_requires_a_secret_to_refresh(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    emu.org.apps[DEFAULT_CLIENT_ID].require_secret_refresh = True
    with pytest.raises(LoginError) as caught:
        await refresh_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN)
    assert caught.value.error == "invalid_client"
    assert "Require secret for Refresh Token Flow" in caught.value.hint
    source = RefreshTokenSource(
        emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN, client_secret=DEFAULT_CLIENT_SECRET
    )
    assert (await source_login(source)).tokens.access_token


@pytest.mark.asyncio
async def test_revoked_refresh_token_says_log_in_again(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    emu.revoke_tokens(refresh=True)
    with pytest.raises(LoginRequired) as caught:
        await refresh_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN, profile="Acme")
    assert caught.value.description == "expired access/refresh token"
    assert "log in again with `sfmonitor profiles login Acme`" in str(caught.value)
    assert isinstance(caught.value, AuthenticationError)  # what the streaming client stops on


@pytest.mark.asyncio
async def test_rotated_refresh_token_is_handed_over(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    rotated: list[str] = []
    source = RefreshTokenSource(
        emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN, on_rotate=rotated.append
    )
    http = OAuthHttp()

    async def rotating(url: str, form: dict[str, str]) -> dict[str, object]:
        data = await http.post_form(url, form)
        return {**data, "refresh_token": "5Aep-new-refresh-token"}

    await source.fetch(rotating)
    assert rotated == ["5Aep-new-refresh-token"]
    assert source.form()["refresh_token"] == "5Aep-new-refresh-token"


# --- JWT bearer ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_jwt_with_a_generated_key(make_emulator: MakeEmulator, tmp_path: Path) -> None:
    emu = await make_emulator()
    key = make_key()
    register_app(emu.org, {"client_id": JWT_APP, "certificate": certificate_of(key)})
    key_file = write_key(key, tmp_path / "server.key")
    result = await jwt_login(emu.url, JWT_APP, DEFAULT_USERNAME, key_file)
    assert emu.org.check_token(result.tokens.access_token) == DEFAULT_USERNAME
    assert result.refresh_token is None  # the JWT flow never issues one
    assert result.identity is not None and result.identity.username == DEFAULT_USERNAME


@pytest.mark.asyncio
async def test_jwt_refusals_say_what_to_fix(make_emulator: MakeEmulator, tmp_path: Path) -> None:
    emu = await make_emulator()
    key = make_key()
    register_app(emu.org, {"client_id": JWT_APP, "certificate": certificate_of(make_key())})
    source = JwtSource(emu.url, JWT_APP, DEFAULT_USERNAME, key)
    with pytest.raises(LoginError) as caught:  # signed with a key the app does not know
        await source_login(source)
    assert caught.value.description == "invalid assertion"
    assert "certificate" in caught.value.hint

    register_app(emu.org, {"client_id": JWT_APP, "certificate": certificate_of(key)})
    elsewhere = JwtSource(emu.url, JWT_APP, DEFAULT_USERNAME, key, audience="https://x.example")
    with pytest.raises(LoginError) as caught:
        await source_login(elsewhere)
    assert caught.value.description == "Audience validation failed"

    emu.org.clock.advance(600)  # this computer's clock is ten minutes behind the org's
    with pytest.raises(LoginError) as caught:
        await source_login(source)
    assert caught.value.description == "expired authorization code"
    assert "clock" in caught.value.hint
    emu.org.clock.advance(-600)

    emu.org.apps[JWT_APP].jwt_users = []
    with pytest.raises(LoginError) as caught:
        await source_login(source)
    assert "pre-authorized" in caught.value.hint


def test_key_file_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(LoginError, match="cannot read the key file"):
        JwtSource.from_key_file("https://x", JWT_APP, "u", tmp_path / "missing.key")
    (tmp_path / "cert.pem").write_text(certificate_of(make_key()))
    with pytest.raises(LoginError, match="is not a PEM private key"):
        JwtSource.from_key_file("https://x", JWT_APP, "u", tmp_path / "cert.pem")


# --- client credentials --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_client_credentials(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    result = await client_credentials_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert emu.org.check_token(result.tokens.access_token) == DEFAULT_USERNAME
    with pytest.raises(LoginError) as caught:
        await client_credentials_login(emu.url, DEFAULT_CLIENT_ID, "wrong-secret")
    assert caught.value.error == "invalid_client"
    emu.org.apps[DEFAULT_CLIENT_ID] = ConnectedApp(
        DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, run_as="nobody@example.com"
    )
    with pytest.raises(LoginError) as caught:
        await client_credentials_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert "Run As" in caught.value.hint


# --- password flow of an org that blocks it ----------------------------------------------


@pytest.mark.asyncio
async def test_blocked_password_flow_says_why_and_offers_browser_login(
    make_emulator: MakeEmulator,
) -> None:
    emu = await make_emulator(block_password_flow=True)
    client = PasswordSalesforceStreaming(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        login_url=emu.url,
    )
    with pytest.raises(AuthenticationError) as caught:
        await client.start()
    assert (caught.value.error, caught.value.description) == (
        "invalid_grant",
        "authentication failure",
    )
    text = str(caught.value)
    assert "blocks the OAuth username-password flow" in text and "Summer '23" in text
    assert "Log in in the browser" in text


@pytest.mark.asyncio
async def test_seed_refresh_connector_says_log_in_again(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    emu.revoke_tokens(refresh=True)
    client = RefreshTokenSalesforceStreaming(
        refresh_token=DEFAULT_REFRESH_TOKEN,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        login_url=emu.url,
    )
    with pytest.raises(AuthenticationError, match="log in again"):
        await client.start()


# --- a streaming client on a token source --------------------------------------------------


@pytest.mark.asyncio
async def test_streaming_client_on_a_token_source(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    source = RefreshTokenSource(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN)
    client = TokenSourceSalesforceStreaming(token_source=source)
    assert client.login_url == emu.url  # taken from the source
    async with client:
        await client.subscribe("/u/news")
        asyncio.get_running_loop().call_later(0.1, emu.org.publish_any, "/u/news", "hello")
        async for message in client.events():
            assert message["data"]["payload"] == "hello"
            break
    assert emu.org.token_requests == 1
    assert DEFAULT_REFRESH_TOKEN not in repr(client) and DEFAULT_REFRESH_TOKEN not in repr(source)

    emu.revoke_tokens(refresh=True)
    with pytest.raises(LoginRequired):
        await TokenSourceSalesforceStreaming(token_source=source).start()
