"""``sfmonitor channels``, ``limits`` and ``publish`` run for real (in-process, as
tests/test_cli.py does) against the emulator's demo org, with a profile whose secrets are in
the (memory) keyring: what they print, their exit codes, and Salesforce's refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
)
from sfmonitor.store import AuthKind, CaptureStore, CredentialVault, Environment, Profile, Secrets
from tests.discovery.conftest import LIMITED, users
from tests.helpers.emulator_thread import (
    SECRETS_STDIN,
    EmulatorThread,
    emulator_thread,
    profiles_add,
)
from tests.helpers.keyring import MemoryKeyring
from tests.test_cli import run

SHIPMENT = "/event/Shipment_Update__e"


@pytest.fixture
def emu() -> Iterator[EmulatorThread]:
    with emulator_thread(catalog="demo", users=users(), daily_platform_events=1000) as handle:
        yield handle


@pytest.fixture
def folder(
    monkeypatch: pytest.MonkeyPatch,
    data_folder: Path,
    mem_keyring: MemoryKeyring,
    emu: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> Path:
    """A data folder with the profile "Emu" of the emulator, its secrets in the keyring."""
    assert run(monkeypatch, data_folder, *profiles_add(emu.url, ()), stdin=SECRETS_STDIN) == 0
    capsys.readouterr()
    return data_folder


def test_channels_lists_every_kind_or_one(
    monkeypatch: pytest.MonkeyPatch, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, folder, "channels", "--profile", "Emu") == 0
    out, err = capsys.readouterr()
    rows = [line.split("\t") for line in out.splitlines()]
    assert {row[0] for row in rows} == {
        "pushtopic",
        "generic",
        "platform_event",
        "standard_event",
        "change_event",
        "custom_channel",
        "monitoring",
    }
    assert ["pushtopic", "/topic/EscalatedCases", "EscalatedCases", "inactive"] in rows
    assert f"{len(rows)} channel(s) in " in err

    assert run(monkeypatch, folder, "channels", "--profile", "Emu", "--kind", "generic") == 0
    out, _ = capsys.readouterr()
    assert [line.split("\t")[1] for line in out.splitlines()] == [
        "/u/deployments",
        "/u/notifications",
        "/u/notifications/ExampleUserChannel",
    ]
    assert run(monkeypatch, folder, "channels", "--profile", "Emu", "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert SHIPMENT in {c["channel"] for c in found["channels"]}


def test_a_user_without_view_setup_gets_what_can_be_found(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    emu: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = profiles_add(emu.url, (), name="Limited")
    argv[argv.index(DEFAULT_USERNAME)] = LIMITED
    assert run(monkeypatch, folder, *argv, stdin=SECRETS_STDIN) == 0
    capsys.readouterr()
    assert run(monkeypatch, folder, "channels", "--profile", "Limited") == 0
    out, err = capsys.readouterr()
    assert "needs the View Setup and Configuration permission" in err
    assert "/event/Shipment_Update__e" in out  # describeGlobal still answers
    assert run(monkeypatch, folder, "limits", "--profile", "Limited") == 1
    err = capsys.readouterr().err
    assert "INSUFFICIENT_ACCESS" in err and "needs the View Setup and Configuration" in err


def test_limits_follow_what_is_delivered(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    emu: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(monkeypatch, folder, "limits", "--profile", "Emu") == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "limit\tremaining\tmax\tused"
    assert lines[1] == "DailyDeliveredPlatformEvents\t1000\t1000\t0"
    emu.call(lambda: emu.emulator.exhaust_allocation("DailyDeliveredPlatformEvents"))
    assert run(monkeypatch, folder, "limits", "--profile", "Emu", "--json") == 0
    limits = json.loads(capsys.readouterr().out)
    assert limits["DailyDeliveredPlatformEvents"] == {"Max": 1000, "Remaining": 0}


def test_publish_prints_the_event_uuid_and_salesforces_refusals(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    emu: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = '{"Tracking_Number__c": "TRK-7"}'
    assert run(monkeypatch, folder, "publish", "--profile", "Emu", SHIPMENT, payload) == 0
    out, err = capsys.readouterr()
    uuid = out.strip()
    retained = emu.call(lambda: emu.emulator.org.channels[SHIPMENT].events[-1])
    assert uuid and retained.event_uuid == uuid
    assert f"EventUuid {uuid}" in err
    # Salesforce's words for a field the event lacks; bad JSON is refused before sending
    bad = '{"Nope__c": 1}'
    assert run(monkeypatch, folder, "publish", "--profile", "Emu", SHIPMENT, bad) == 1
    assert "INVALID_FIELD" in capsys.readouterr().err
    assert run(monkeypatch, folder, "publish", "--profile", "Emu", SHIPMENT, "{oops") == 2
    assert "not JSON" in capsys.readouterr().err
    assert run(monkeypatch, folder, "publish", "--profile", "Emu", "/topic/X", "{}") == 2
    # a generic channel gets a push of the text
    assert run(monkeypatch, folder, "publish", "--profile", "Emu", "/u/deployments", "hi") == 0
    assert "pushed to /u/deployments" in capsys.readouterr().err
    assert emu.call(lambda: len(emu.emulator.org.channels["/u/deployments"].events)) == 1


def test_a_production_org_needs_yes_and_a_wrong_password_is_exit_3(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    emu: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with CaptureStore.open(folder) as store:
        found = store.profile("Emu")
        assert found is not None
        prod: Profile = store.save_profile(
            Profile("Prod", Environment.PRODUCTION, emu.url, username=DEFAULT_USERNAME,
                    client_id=found.client_id)
        )  # fmt: skip
        assert prod.is_production
    argv = ("publish", "--profile", "Prod", "--secrets-stdin", SHIPMENT, "{}")
    assert run(monkeypatch, folder, *argv, stdin=SECRETS_STDIN) == 2
    assert "production org" in capsys.readouterr().err
    assert emu.call(lambda: len(emu.emulator.org.channels.get(SHIPMENT, ()) or ())) == 0
    wrong = "not-the-password\nnor-the-secret\n"
    assert run(monkeypatch, folder, "limits", "--profile", "Prod", "--secrets-stdin",
               stdin=wrong) == 3  # fmt: skip
    assert "login refused" in capsys.readouterr().err


def test_a_refresh_token_salesforce_rotates_goes_back_to_the_keyring(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    emu: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = emu.call(lambda: emu.emulator.org.apps[DEFAULT_CLIENT_ID])
    emu.call(lambda: setattr(app, "rotate_refresh_token", True))
    with CaptureStore.open(folder) as store:
        store.save_profile(
            Profile("Token", Environment.CUSTOM, emu.url, AuthKind.REFRESH_TOKEN,
                    client_id=DEFAULT_CLIENT_ID)
        )  # fmt: skip
        vault = CredentialVault(scope=store.vault_scope)
    given = Secrets(refresh_token=DEFAULT_REFRESH_TOKEN, client_secret=DEFAULT_CLIENT_SECRET)
    vault.save("Token", given)
    for _ in range(2):  # the second run logs in with the token the first one was given
        assert run(monkeypatch, folder, "limits", "--profile", "Token") == 0
        kept = vault.load("Token")
        assert kept is not None and kept.refresh_token != given.refresh_token
        assert kept.refresh_token in emu.call(lambda: set(emu.emulator.org.refresh_tokens))
        given = kept
    assert "DailyDeliveredPlatformEvents" in capsys.readouterr().out
