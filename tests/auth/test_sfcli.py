"""Orgs of the Salesforce CLI, with a fake ``sf`` on PATH that refreshes its own login
against the emulator as the real one does."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from sfmonitor.auth import (
    LoginError,
    LoginRequired,
    SfCli,
    SfCliSource,
    sf_cli_login,
)
from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_USERNAME, Emulator
from sfmonitor.streaming import TokenSourceSalesforceStreaming, TransportError
from tests.auth.conftest import MakeEmulator

FAKE = Path(__file__).with_name("fake_sf.py")
CLI_REFRESH_TOKEN = "5Aep-the-cli-own-refresh-token"  # only the fake CLI knows it


class FakeSf:
    def __init__(self, folder: Path, emu: Emulator, mode: str = "ok") -> None:
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.path = self.bin / "sf"
        self.path.write_text(f"#!{sys.executable}\n" + FAKE.read_text())
        self.path.chmod(0o755)
        self.log = folder / "calls.jsonl"
        self.config_file = folder / "fake-sf.json"
        self.config = {
            "alias": "emu",
            "username": DEFAULT_USERNAME,
            "login_url": emu.url,
            "client_id": DEFAULT_CLIENT_ID,
            "refresh_token": CLI_REFRESH_TOKEN,
            "org_id": emu.org.org_id,
            "mode": mode,
            "log": str(self.log),
        }
        self.save()
        emu.org.refresh_tokens[CLI_REFRESH_TOKEN] = (DEFAULT_USERNAME, DEFAULT_CLIENT_ID)

    def save(self) -> None:
        self.config_file.write_text(json.dumps(self.config))

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty folder as the whole PATH, for the fake to go into."""
    folder = tmp_path / "path"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


async def fake_sf(make_emulator: MakeEmulator, tmp_path: Path, mode: str = "ok") -> FakeSf:
    emu = await make_emulator()
    fake = FakeSf(tmp_path, emu, mode)
    return fake


@pytest.mark.asyncio
async def test_list_orgs(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await fake_sf(make_emulator, tmp_path)
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    monkeypatch.setenv("PATH", str(fake.bin))
    cli = SfCli()
    assert cli.executable == str(fake.path)  # which sf was used
    orgs = await cli.list_orgs()
    assert [(o.target, o.kind) for o in orgs] == [("emu", "org"), ("scratchy", "scratch")]
    assert fake.calls() == [["org", "list", "--skip-connection-status"]]
    assert all("REDACTED" not in repr(o) and "Token" not in repr(o) for o in orgs)


@pytest.mark.asyncio
async def test_connects_with_the_cli_token_and_asks_again_after_a_401(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = await make_emulator()
    fake = FakeSf(tmp_path, emu)
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    source = SfCliSource("emu", SfCli(str(fake.path)))
    client = TokenSourceSalesforceStreaming(token_source=source, login_url=emu.url)
    client.auto_reconnect = True
    received: list[str] = []
    async with client:
        await client.subscribe("/u/news")
        emu.org.publish_any("/u/news", "before")
        async for message in client.events():
            received.append(message["data"]["payload"])
            if len(received) == 1:
                emu.revoke_tokens()  # every access token dies: the next request gets a 401
                emu.expire_sessions()
                asyncio.get_running_loop().call_later(0.3, emu.org.publish_any, "/u/news", "after")
            else:
                break
    assert received == ["before", "after"]
    displays = [c for c in fake.calls() if c[:2] == ["org", "display"]]
    assert len(displays) >= 2  # at connect, and again after the 401
    assert all(CLI_REFRESH_TOKEN not in " ".join(c) for c in fake.calls())
    assert CLI_REFRESH_TOKEN not in repr(source)


@pytest.mark.asyncio
async def test_redacted_token_comes_from_show_access_token(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = await make_emulator()
    fake = FakeSf(tmp_path, emu, mode="redacted")
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    result = await sf_cli_login("emu", str(fake.path))
    assert emu.org.check_token(result.tokens.access_token) == DEFAULT_USERNAME
    assert [c[:3] for c in fake.calls()] == [
        ["org", "display", "--target-org"],
        ["org", "auth", "show-access-token"],
    ]
    assert result.identity is not None and result.identity.org_id == emu.org.org_id


@pytest.mark.asyncio
async def test_unknown_alias(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await fake_sf(make_emulator, tmp_path)
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    with pytest.raises(LoginError) as caught:
        await sf_cli_login("nope", str(fake.path))
    assert caught.value.error == "sf_org_not_found"
    assert "No authorization information found for nope." in str(caught.value)
    assert "sf org login web --alias nope" in caught.value.hint
    assert str(fake.path) in caught.value.hint


@pytest.mark.asyncio
async def test_expired_cli_login(
    make_emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await fake_sf(make_emulator, tmp_path, mode="expired")
    monkeypatch.setenv("FAKE_SF_CONFIG", str(fake.config_file))
    with pytest.raises(LoginRequired) as caught:
        await SfCliSource("emu", SfCli(str(fake.path))).fetch_token()
    assert caught.value.error == "sf_session_expired"
    assert "RefreshTokenAuthError" in str(caught.value)
    assert f"sf org login web --alias emu --instance-url {fake.config['login_url']}" in str(
        caught.value
    )


def test_missing_sf(on_path: Path) -> None:
    with pytest.raises(LoginError) as caught:
        _ = SfCli().executable
    assert caught.value.error == "sf_not_found"
    assert "(sf) was not found on PATH" in str(caught.value)
    assert "Install it" in caught.value.hint
    with pytest.raises(LoginError, match="not found"):
        _ = SfCli(str(on_path / "no" / "sf")).executable


@pytest.mark.asyncio
async def test_hanging_sf_is_stopped(tmp_path: Path) -> None:
    hang = tmp_path / "sf"
    hang.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    hang.chmod(0o755)
    with pytest.raises(TransportError, match=r"did not answer within 0\.5 s"):
        await SfCli(str(hang), timeout=0.5).session("emu")
