"""Keyring entries belong to one capture file: two data folders with a profile of the
same name keep their own secrets; entries of earlier versions move over; a keyring that
keeps nothing is an error, never a "stored"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from sfmonitor.store import CaptureStore, CredentialVault, Secrets
from tests.helpers.keyring import MemoryKeyring
from tests.test_cli import run

ADD = ["profiles", "add", "Shared", "--sandbox", "--username", "u", "--client-id", "c"]


def vault_of(folder: Path) -> CredentialVault:
    with CaptureStore.open(folder) as store:
        return CredentialVault(scope=store.vault_scope)


def test_two_folders_with_a_profile_of_the_same_name_keep_their_own_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mem_keyring: MemoryKeyring
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert run(monkeypatch, one, *ADD, "--secrets-stdin", stdin="pw-one\ncs-one\n") == 0
    assert run(monkeypatch, two, *ADD, "--secrets-stdin", stdin="pw-two\ncs-two\n") == 0
    assert vault_of(one).load("Shared") == Secrets(password="pw-one", client_secret="cs-one")
    assert vault_of(two).load("Shared") == Secrets(password="pw-two", client_secret="cs-two")
    assert len(mem_keyring.entries) == 2
    assert run(monkeypatch, one, "profiles", "remove", "Shared") == 0
    assert vault_of(two).load("Shared") == Secrets(password="pw-two", client_secret="cs-two")
    assert len(mem_keyring.entries) == 1


def test_an_entry_of_an_earlier_version_moves_to_the_files_name(
    data_folder: Path, mem_keyring: MemoryKeyring
) -> None:
    old = Secrets(password="pw-old", client_secret="cs-old")
    mem_keyring.set_password("sfmonitor", "profile:Shared", old.to_json())
    vault = vault_of(data_folder)
    assert vault.load("Shared") == old
    assert list(mem_keyring.entries) == [("sfmonitor", f"profile:{vault.scope}:Shared")]
    assert vault.load("Shared") == old  # from its new place


def test_a_failed_move_keeps_the_old_entry(data_folder: Path, mem_keyring: MemoryKeyring) -> None:
    """The new entry cannot be written (the keyring turned read-only): the secrets are
    still read from the old one, which is not deleted."""
    old = Secrets(password="pw-old", client_secret="cs-old")
    mem_keyring.set_password("sfmonitor", "profile:Shared", old.to_json())
    vault = vault_of(data_folder)

    class ReadOnlyKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.PasswordSetError("read-only")

    read_only = ReadOnlyKeyring()
    read_only.entries = dict(mem_keyring.entries)
    keyring.set_keyring(read_only)
    assert vault.load("Shared") == old
    assert list(read_only.entries) == [("sfmonitor", "profile:Shared")]


def test_a_profile_removed_before_its_entry_moved_leaves_no_secret(
    monkeypatch: pytest.MonkeyPatch, data_folder: Path, mem_keyring: MemoryKeyring
) -> None:
    assert run(monkeypatch, data_folder, *ADD, "--secrets-stdin", stdin="pw\ncs\n") == 0
    entry = next(iter(mem_keyring.entries))
    mem_keyring.entries = {("sfmonitor", "profile:Shared"): mem_keyring.entries[entry]}
    assert run(monkeypatch, data_folder, "profiles", "remove", "Shared") == 0
    assert mem_keyring.entries == {}


def test_a_keyring_chain_with_no_backend_stores_nothing_and_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.chainer.ChainerBackend"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sfmonitor",
            "--data-dir",
            str(tmp_path / "d"),
            *ADD,
            "--secrets-stdin",
        ],
        input="pw-chain\ncs-chain\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 4, proc.stderr
    assert "in the keyring" not in proc.stderr and "saved profile" not in proc.stderr
    assert "The OS keyring is not available" in proc.stderr
    with CaptureStore.open(tmp_path / "d") as store:
        assert store.profiles() == []


def test_a_keyring_that_forgets_what_it_is_given_is_an_error(data_folder: Path) -> None:
    from sfmonitor.store import KeyringUnavailableError

    class Forgetful(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            pass  # accepted, never kept (a misconfigured or locked backend)

    keyring.set_keyring(Forgetful())
    with pytest.raises(KeyringUnavailableError, match="did not keep the secrets"):
        vault_of(data_folder).save("P", Secrets(password="pw", client_secret="cs"))


def test_real_secret_service_keeps_folders_apart(
    secret_service: keyring.backend.KeyringBackend, tmp_path: Path
) -> None:
    one, two = vault_of(tmp_path / "one"), vault_of(tmp_path / "two")
    one.save("Shared", Secrets(password="pw-1", client_secret="cs-1"))
    two.save("Shared", Secrets(password="pw-2", client_secret="cs-2"))
    one.delete("Shared")
    assert one.load("Shared") is None
    assert two.load("Shared") == Secrets(password="pw-2", client_secret="cs-2")
    two.delete("Shared")
