"""The headless commands, in-process (profiles) and as a real process (capture)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.app import main
from sfmonitor.store import CaptureStore, CredentialVault, EventQuery
from tests.helpers.emulator_thread import SECRETS_STDIN, emulator_thread, profiles_add
from tests.helpers.keyring import MemoryKeyring
from tests.helpers.waiting import wait_until_blocking


def run(monkeypatch: pytest.MonkeyPatch, data: Path, *argv: str, stdin: str = "") -> int:
    """``sfmonitor --data-dir DATA ARGV`` in this process; its exit code (argparse's
    refusals included)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        return main(["--data-dir", str(data), *argv])
    except SystemExit as exc:
        return int(exc.code or 0)


def vault_of(data: Path) -> CredentialVault:
    with CaptureStore.open(data) as store:
        return CredentialVault(scope=store.vault_scope)


def test_profiles_add_list_remove(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    mem_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run(
        monkeypatch,
        data_folder,
        *("profiles", "add", "Prod", "--production", "--username", "ada@example.com"),
        *("--client-id", "3MVG9", "--channel", "/event/Order__e", "--secrets-stdin"),
        stdin="pw-Secret1TOKEN\ncs-Secret2\n",
    )
    assert code == 0
    assert vault_of(data_folder).load("Prod") is not None
    assert run(monkeypatch, data_folder, "profiles", "list") == 0
    out, err = capsys.readouterr()
    assert "Prod\tproduction\thttps://login.salesforce.com\tpassword\tada@example.com" in out
    assert "1 channels" in out
    for secret in ("pw-Secret1TOKEN", "cs-Secret2"):
        assert secret not in out + err
        assert secret not in (data_folder / "capture.db").read_bytes().decode("latin-1")
    assert run(monkeypatch, data_folder, "profiles", "remove", "Prod") == 0
    assert mem_keyring.entries == {}
    assert run(monkeypatch, data_folder, "profiles", "remove", "Prod") == 2


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "words"),
    [
        (["profiles", "add", "P", "--login-url", "ftp://x", "--client-id", "c"], "", 2, "https://"),
        (
            ["profiles", "add", "P", "--sandbox", "--auth", "password", "--client-id", "c"],
            "",
            2,
            "--username",
        ),
        (
            [
                "profiles",
                "add",
                "P",
                "--sandbox",
                "--username",
                "u",
                "--client-id",
                "c",
                "--channel",
                "Foo",
            ],
            "",
            2,
            "is not a channel",
        ),
        (
            [
                "profiles",
                "add",
                "P",
                "--sandbox",
                "--username",
                "u",
                "--client-id",
                "c",
                "--secrets-stdin",
            ],
            "only-one-line\n",
            2,
            "stdin ended before the client secret",
        ),
        (["capture", "--profile", "Nope"], "", 2, "no profile named 'Nope'"),
        (["capture"], "", 2, "--profile NAME is needed"),
        (["capture", "--demo", "--replay", "yesterday"], "", 2, "--replay: must be stored"),
        (["capture", "--demo", "--replay", "99999999999999999999"], "", 2, "--replay: must be"),
        (["capture", "--demo", "--replay", "-7"], "", 2, "--replay: must be"),
        (["capture", "--demo", "--replay", "١٢"], "", 2, "--replay: must be"),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    code: int,
    words: str,
) -> None:
    assert run(monkeypatch, data_folder, *argv, stdin=stdin) == code
    assert words in capsys.readouterr().err


def test_no_keyring_exits_4_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    argv = ["profiles", "add", "P", "--sandbox", "--username", "u", "--client-id", "c"]
    assert run(monkeypatch, data_folder, *argv, "--secrets-stdin", stdin="a\nb\n") == 4
    assert "gnome-keyring" in capsys.readouterr().err
    with CaptureStore.open(data_folder) as store:
        assert store.profiles() == []  # nothing half-saved


def test_a_folder_in_use_exits_5(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with CaptureStore.open(data_folder):
        assert run(monkeypatch, data_folder, "profiles", "remove", "X") == 5
        assert "in use by another sfmonitor (pid" in capsys.readouterr().err
        assert run(monkeypatch, data_folder, "profiles", "list") == 0  # read-only is fine
        assert "reading it read-only" in capsys.readouterr().err


def test_capture_demo_as_a_process_echoes_ndjson_and_stops_on_sigterm(tmp_path: Path) -> None:
    import orjson

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(tmp_path / "d"),
            "capture",
            "--demo",
            "--ndjson",
            "-",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    records = [orjson.loads(line) for line in lines]
    assert all(set(r) >= {"channel", "replayId", "kind", "event"} for r in records)
    assert b"stopped:" in err
    with CaptureStore.open(tmp_path / "d", read_only=True) as store:
        assert store.count(EventQuery()) >= 5


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.count(EventQuery())


def test_capture_against_an_org_profile(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, tmp_path: Path
) -> None:
    with emulator_thread(connect_timeout=1.0) as emu:
        argv = profiles_add(emu.url, ("/u/news",))
        assert run(monkeypatch, data_folder, *argv, stdin=SECRETS_STDIN) == 0
        emu.call(lambda: [emu.emulator.org.publish_any("/u/news", f"m{i}") for i in range(3)])
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sfmonitor",
                "--data-dir",
                str(data_folder),
                "capture",
                "--profile",
                "Emu",
                "--replay",
                "all",
                "--secrets-stdin",
            ],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdin is not None and proc.stderr is not None
            proc.stdin.write(SECRETS_STDIN)
            proc.stdin.close()
            seen = ""
            for line in proc.stderr:  # ends at EOF if the process dies
                seen += line
                if "subscribed to /u/news" in line:
                    break
            # the replayed events arrive with a later connect reply
            wait_until_blocking(lambda: stored(data_folder) >= 3, 20, "the replayed events")
            proc.terminate()
            err = seen + proc.stderr.read()
            proc.wait(20)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
    with CaptureStore.open(data_folder, read_only=True) as store:
        assert store.count(EventQuery()) == 3
