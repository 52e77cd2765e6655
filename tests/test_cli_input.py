"""Bad input to the headless commands: refused with exit 2 and one clear line, nothing
saved; what a profile had is kept when it is not given again; and a server's words
reach the terminal without control characters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.store import CaptureStore
from tests.helpers.emulator_thread import SECRETS_STDIN, emulator_thread, profiles_add
from tests.test_cli import run

ADD = ["profiles", "add", "P", "--sandbox", "--username", "u", "--client-id", "c"]


def add(monkeypatch: pytest.MonkeyPatch, data: Path, *extra: str, name: str = "P") -> int:
    argv = [*ADD[:2], name, *ADD[3:], *extra, "--secrets-stdin"]
    return run(monkeypatch, data, *argv, stdin="pw\ncs\n")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--keep-events", "-5"),
        ("--keep-events", "0"),
        ("--keep-events", "99999999999999999999"),
        ("--keep-events", "2.5"),
        ("--keep-days", "-1"),
        ("--keep-days", "0"),
        ("--keep-days", "nan"),
        ("--keep-days", "inf"),
        ("--keep-days", "-inf"),
        ("--keep-days", "1e308"),
    ],
)
def test_nonsense_retention_is_refused_with_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
) -> None:
    assert add(monkeypatch, data_folder, f"{option}={value}") == 2
    err = capsys.readouterr().err
    assert f"argument {option}: keep-" in err and "Traceback" not in err
    with CaptureStore.open(data_folder) as store:
        assert store.profiles() == []


def test_adding_a_profile_again_keeps_what_is_not_given(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    assert add(monkeypatch, data_folder, "--keep-events", "500", "--keep-days", "2.5") == 0
    assert add(monkeypatch, data_folder, "--channel", "/event/Order__e") == 0
    with CaptureStore.open(data_folder) as store:
        profile = store.profile("P")
        assert profile is not None and profile.id is not None
        assert (profile.keep_events, profile.keep_days) == (500, 2.5)
        assert [s.channel for s in store.subscriptions(profile.id)] == ["/event/Order__e"]
    assert add(monkeypatch, data_folder, "--keep-events", "none") == 0
    with CaptureStore.open(data_folder) as store:
        profile = store.profile("P")
        assert profile is not None and profile.id is not None
        assert (profile.keep_events, profile.keep_days) == (None, 2.5)
        assert len(store.subscriptions(profile.id)) == 1  # channels are kept too


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("a\x1b[2Jb", "control characters (U+001B)"),
        ("tab\there", "control characters (U+0009)"),
        ("evil\u202eexe.txt", "control characters (U+202E)"),
        ("x" * 100_000, "at most 100 characters (this one 100,000)"),
        (" padded", "cannot start or end with spaces"),
    ],
)
def test_bad_profile_names_are_refused(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    words: str,
) -> None:
    assert add(monkeypatch, data_folder, name=name) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "\x1b" not in err and len(err) < 2000
    with CaptureStore.open(data_folder) as store:
        assert store.profiles() == []


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        ("/topic/" + "A" * 10_000, "at most 255 characters"),
        ("/topic/Accounts?", "is not a PushTopic filter"),
        ("/topic/Accounts?junk", "is not a PushTopic filter"),
        ("/topic/Accounts?Name=a?b", "is not a PushTopic filter"),
        ("/topic/Accounts?Name=<script>", "is not a PushTopic filter"),
        ("/topic/Accounts?Name=" + "a" * 2000, "at most 1300 characters"),
        ("/event/Order__e?Name=x", "only PushTopic channels"),
        ("/topic/Acc\x1bounts", "control characters"),
    ],
)
def test_bad_channel_names_are_refused(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    capsys: pytest.CaptureFixture[str],
    channel: str,
    words: str,
) -> None:
    assert add(monkeypatch, data_folder, "--channel", channel) == 2
    err = capsys.readouterr().err
    assert words in err and "\x1b" not in err and len(err) < 2000


def test_a_filtered_push_topic_is_a_channel(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    channel = "/topic/Accounts?Industry=Retail&Name=Acme%20Corp"
    assert add(monkeypatch, data_folder, "--channel", channel) == 0


def test_server_words_reach_the_terminal_without_control_characters(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    """A server refuses the only channel with text that would clear the screen and
    retitle the terminal: it is printed escaped, and a capture of nothing exits 1."""
    hostile = "400::\x1b[2J\x1b[H\x1b]0;pwned\x07\u202egnp.exe {channel}"
    with emulator_thread(connect_timeout=1.0, channel_missing_error=hostile) as emu:
        argv = profiles_add(emu.url, ("/topic/Missing",))
        assert run(monkeypatch, data_folder, *argv, stdin=SECRETS_STDIN) == 0
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sfmonitor",
                "--data-dir",
                str(data_folder),
                "capture",
                "--profile",
                "Emu",
                "--secrets-stdin",
            ],
            input=SECRETS_STDIN.encode(),
            capture_output=True,
            timeout=60,
        )
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "no channel could be subscribed" in err
    assert "\\x1b[2J" in err and "\\u202e" in err  # shown, escaped
    for raw in (b"\x1b", b"\x07", "\u202e".encode()):
        assert raw not in proc.stderr
