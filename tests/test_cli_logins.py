"""``profiles add --auth KIND`` and ``profiles login`` in-process: what each kind needs is
asked for by name (exit 2), the old ``--username`` call keeps its meaning, and logging in
again keeps the new secret only when the org accepted it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME
from sfmonitor.store import AuthKind, CaptureStore, Secrets
from tests.helpers.emulator_thread import emulator_thread
from tests.test_cli import run, vault_of


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--production"], "--client-id needed for --auth web"),
        (["--auth", "sf-cli"], "--sf-org needed for --auth sf-cli"),
        (
            ["--production", "--auth", "jwt", "--client-id", "c"],
            "--username and --key-file needed for --auth jwt",
        ),
        (["--auth", "web", "--client-id", "c"], "say where to log in: --production"),
        (["--production", "--auth", "client-credentials"], "--client-id needed"),
        (["--production", "--client-id", "c", "--callback-port", "0"], "must be a port"),
        (["--production", "--auth", "oauth", "--client-id", "c"], "invalid choice: 'oauth'"),
    ],
)
def test_what_a_kind_needs_is_asked_for_by_name(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    words: str,
) -> None:
    assert run(monkeypatch, data_folder, "profiles", "add", "P", *argv) == 2
    assert words in capsys.readouterr().err
    assert not (data_folder / "capture.db").exists() or _names(data_folder) == []


def _names(folder: Path) -> list[str]:
    with CaptureStore.open(folder) as store:
        return [p.name for p in store.profiles()]


def test_username_without_auth_is_the_legacy_password_login(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        monkeypatch,
        data_folder,
        *("profiles", "add", "Old", "--production", "--username", "ada@acme.com"),
        *("--client-id", "3MVG9", "--secrets-stdin"),
        stdin="pw\ncs\n",
    )
    assert code == 0
    assert "--username without --auth: the legacy password login" in capsys.readouterr().err
    with CaptureStore.open(data_folder) as store:
        (profile,) = store.profiles()
    assert profile.auth_kind is AuthKind.PASSWORD


def test_logging_in_again_keeps_a_secret_only_once_the_org_took_it(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with emulator_thread(connect_timeout=1.0) as emu:
        add = ("profiles", "add", "CC", "--login-url", emu.url, "--auth", "client-credentials")
        secret = f"{DEFAULT_CLIENT_SECRET}\n"
        assert run(monkeypatch, data_folder, *add, "--client-id", DEFAULT_CLIENT_ID,
                   "--secrets-stdin", stdin="wrong\n") == 3  # fmt: skip
        assert "invalid_client" in capsys.readouterr().err and _names(data_folder) == []
        assert run(monkeypatch, data_folder, *add, "--client-id", DEFAULT_CLIENT_ID,
                   "--secrets-stdin", stdin=secret) == 0  # fmt: skip
        login = ("profiles", "login", "CC", "--secrets-stdin")
        assert run(monkeypatch, data_folder, *login, stdin="still-wrong\n") == 3
        assert vault_of(data_folder).load("CC") == Secrets(client_secret=DEFAULT_CLIENT_SECRET)
        assert run(monkeypatch, data_folder, *login, stdin=secret) == 0
    said = capsys.readouterr().err
    assert f"logged in 'CC' again; logged in as {DEFAULT_USERNAME} · sfmonitor emulator" in said
    assert run(monkeypatch, data_folder, "profiles", "login", "Nope") == 2
