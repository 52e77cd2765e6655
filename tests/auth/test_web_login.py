"""Browser login (web-server flow + PKCE + loopback receiver) against the emulator, with an
HTTP client in the browser's place; and once with a real ``$BROWSER`` stand-in."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from sfmonitor.auth import (
    BrowserLoginError,
    LoginError,
    WebLogin,
    web_login,
)
from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_PASSWORD, DEFAULT_USERNAME
from tests.auth.conftest import Browser, MakeEmulator, allow_callback, free_port


@pytest.mark.asyncio
async def test_full_login_with_auto_approve(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    port = free_port()
    allow_callback(emu, f"http://localhost:{port}/OauthRedirect")
    browser = Browser()
    shown: list[str] = []
    result = await web_login(
        emu.url, DEFAULT_CLIENT_ID, port=port, open_browser=browser, on_url=shown.append
    )
    assert shown and shown[0].startswith(f"{emu.url}/services/oauth2/authorize?")
    query = parse_qs(urlsplit(shown[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"http://localhost:{port}/OauthRedirect"]
    assert query["scope"] == ["api refresh_token"]
    # the browser went to the loopback receiver and ended on the "you can close this" page
    assert browser.redirects[0].startswith(f"http://localhost:{port}/OauthRedirect?code=")
    assert browser.pages[-1][0] == 200 and "You can close this tab" in browser.pages[-1][1]
    tokens = result.tokens
    assert tokens.instance_url == emu.url
    assert tokens.org_id == emu.org.org_id
    assert emu.org.check_token(tokens.access_token) == DEFAULT_USERNAME
    assert result.refresh_token is not None
    assert emu.org.refresh_tokens[result.refresh_token] == (DEFAULT_USERNAME, DEFAULT_CLIENT_ID)
    assert result.identity is not None and result.identity.username == DEFAULT_USERNAME


@pytest.mark.asyncio
async def test_login_page_allow(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    browser = Browser(action="allow", password=DEFAULT_PASSWORD)
    async with WebLogin(emu.url, DEFAULT_CLIENT_ID, port=0) as login:
        url = await login.start()
        allow_callback(emu, login.redirect_uri)
        opening = asyncio.ensure_future(browser(url))
        tokens = await login.finish()
        await opening
    assert "Allow" in browser.pages[0][1]  # the login page was shown first
    assert emu.org.check_token(tokens.access_token) == DEFAULT_USERNAME


@pytest.mark.asyncio
async def test_denied_in_the_browser(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    browser = Browser(action="deny")
    async with WebLogin(emu.url, DEFAULT_CLIENT_ID, port=0) as login:
        url = await login.start()
        allow_callback(emu, login.redirect_uri)
        opening = asyncio.ensure_future(browser(url))
        with pytest.raises(BrowserLoginError) as caught:
            await login.finish()
        await opening
    assert caught.value.error == "access_denied"
    assert "Allow" in caught.value.hint
    assert "end-user denied authorization" in str(caught.value)
    assert emu.org.access_tokens == {}


@pytest.mark.asyncio
async def test_answer_with_a_wrong_state_is_refused(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    async with WebLogin(emu.url, DEFAULT_CLIENT_ID, port=0) as login:
        url = await login.start()
        allow_callback(emu, login.redirect_uri)
        async with aiohttp.ClientSession() as http:
            async with http.get(url, allow_redirects=False) as resp:
                location = resp.headers["Location"]
            # someone else's answer: the right code, another login's state
            forged = location.replace("state=", "state=x")
            async with http.get(forged) as resp:
                assert resp.status == 400
        with pytest.raises(BrowserLoginError) as caught:
            await login.finish()
    assert caught.value.error == "state_mismatch"
    assert emu.org.access_tokens == {}  # the code was never exchanged


@pytest.mark.asyncio
async def test_verifier_mismatch(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    port = free_port()
    allow_callback(emu, f"http://localhost:{port}/OauthRedirect")
    first = WebLogin(emu.url, DEFAULT_CLIENT_ID, port=port)
    url = first.authorize_url
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    # the code reaches a login that did not start it: its verifier does not match
    other = WebLogin(emu.url, DEFAULT_CLIENT_ID, port=port)
    with pytest.raises(LoginError) as caught:
        await other.exchange(code)
    assert (caught.value.error, caught.value.description) == (
        "invalid_grant",
        "invalid code verifier",
    )
    assert "start the login again" in caught.value.hint
    # and the code is spent: the login that started it cannot use it either
    with pytest.raises(LoginError) as caught:
        await first.exchange(code)
    assert caught.value.description == "invalid authorization code"


@pytest.mark.asyncio
async def test_port_in_use_names_the_port_and_the_setting(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(BrowserLoginError) as caught:
            await web_login(emu.url, DEFAULT_CLIENT_ID, port=port, open_browser=None)
    assert caught.value.error == "port_in_use"
    assert str(port) in str(caught.value) and "callback port" in str(caught.value)


@pytest.mark.asyncio
async def test_timeout_when_the_browser_never_comes_back(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    with pytest.raises(BrowserLoginError) as caught:
        await web_login(emu.url, DEFAULT_CLIENT_ID, port=0, open_browser=None, timeout=0.2)
    assert caught.value.error == "timeout"
    assert "0.2 seconds" in str(caught.value)


@pytest.mark.asyncio
async def test_app_that_requires_a_secret(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    emu.org.apps[DEFAULT_CLIENT_ID].require_secret_web_server = True
    port = free_port()
    allow_callback(emu, f"http://localhost:{port}/OauthRedirect")
    with pytest.raises(LoginError) as caught:
        await web_login(emu.url, DEFAULT_CLIENT_ID, port=port, open_browser=Browser())
    assert (caught.value.error, caught.value.description) == (
        "invalid_client",
        "invalid client credentials",
    )
    assert "Require secret for Web Server Flow" in caught.value.hint


@pytest.mark.asyncio
async def test_unregistered_callback_url_never_reaches_the_receiver(
    make_emulator: MakeEmulator,
) -> None:
    emu = await make_emulator(auto_approve=True)
    browser = Browser()
    with pytest.raises(BrowserLoginError) as caught:
        await web_login(emu.url, DEFAULT_CLIENT_ID, port=0, open_browser=browser, timeout=1.0)
    # Salesforce shows the error on its own page: the login can only time out
    assert caught.value.error == "timeout"
    assert browser.pages[0][0] == 400 and "redirect_uri_mismatch" in browser.pages[0][1]


BROWSER_STAND_IN = """#!{python}
import sys, urllib.request
open({marker!r}, "a").write(sys.argv[1] + "\\n")
with urllib.request.urlopen(sys.argv[1]) as page:  # follows the redirect to the receiver
    page.read()
"""

LOGIN_SCRIPT = """
import asyncio
from sfmonitor.auth import web_login
result = asyncio.run(web_login({url!r}, {client!r}, port={port}, on_url=print))
print("logged in as", result.identity.username, result.identity.kind)
"""


@pytest.mark.asyncio
async def test_the_browser_named_by_BROWSER_is_used(
    make_emulator: MakeEmulator, tmp_path: Path
) -> None:
    emu = await make_emulator(auto_approve=True)
    port = free_port()
    allow_callback(emu, f"http://localhost:{port}/OauthRedirect")
    marker = tmp_path / "opened.txt"
    stand_in = tmp_path / "browser"
    stand_in.write_text(BROWSER_STAND_IN.format(python=sys.executable, marker=str(marker)))
    stand_in.chmod(0o755)
    env = {**os.environ, "BROWSER": str(stand_in)}
    env.pop("DISPLAY", None)
    script = LOGIN_SCRIPT.format(url=emu.url, client=DEFAULT_CLIENT_ID, port=port)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    printed = out.decode().splitlines()
    assert printed[0].startswith(f"{emu.url}/services/oauth2/authorize?")  # shown to copy
    assert printed[-1] == f"logged in as {DEFAULT_USERNAME} production"
    assert marker.read_text().splitlines() == [printed[0]]  # $BROWSER opened that URL


async def patient_browser(url: str) -> bool:
    """A browser that reads the receiver's page to the end and lets the server close the
    connection first (as browsers may): the closed connection then lingers in TIME_WAIT on
    the receiver's port."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        callback = urlsplit(resp.headers["Location"])
    reader, writer = await asyncio.open_connection("127.0.0.1", callback.port)
    target = f"{callback.path}?{callback.query}"
    writer.write(f"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    page = await reader.read()  # until the receiver closes
    writer.close()
    return b"You can close this tab" in page


@pytest.mark.asyncio
async def test_logging_in_again_at_once_on_the_same_port(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(auto_approve=True)
    port = free_port()
    allow_callback(emu, f"http://localhost:{port}/OauthRedirect")
    for _ in range(2):
        result = await web_login(
            emu.url, DEFAULT_CLIENT_ID, port=port, open_browser=patient_browser
        )
        assert result.tokens.access_token
