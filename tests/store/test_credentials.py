"""Secrets in the keyring: the in-memory backend, no keyring at all, a real Secret Service."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest

from sfmonitor.store import CredentialVault, KeyringUnavailableError, Secrets
from tests.helpers.keyring import MemoryKeyring

SECRETS = Secrets(
    password="pw-K9x!Token123", client_secret="cs-Secret-77", refresh_token="rt-5aa1-refresh"
)


def test_secrets_round_trip_as_one_entry_per_profile(mem_keyring: MemoryKeyring) -> None:
    vault = CredentialVault()
    vault.save("Prod", SECRETS)
    vault.save("Sandbox", Secrets(password="other", client_secret="x"))
    assert vault.load("Prod") == SECRETS
    assert set(mem_keyring.entries) == {
        ("sfmonitor", "profile:Prod"),
        ("sfmonitor", "profile:Sandbox"),
    }
    vault.delete("Prod")
    assert vault.load("Prod") is None
    vault.delete("Prod")  # deleting twice is fine


def test_secrets_never_show_in_repr() -> None:
    text = repr(SECRETS) + str(SECRETS)
    for value in SECRETS.values():
        assert value not in text


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, keyring.backends.null.Keyring])
def test_no_keyring_is_a_clear_error_and_never_a_silent_fallback(backend: type) -> None:
    keyring.set_keyring(backend())
    vault = CredentialVault()
    with pytest.raises(KeyringUnavailableError) as info:
        vault.save("Prod", SECRETS)
    message = str(info.value)
    assert "gnome-keyring" in message and "this session only" in message
    for value in SECRETS.values():
        assert value not in message
    with pytest.raises(KeyringUnavailableError):
        vault.check()
    # the explicit choice: keep them in memory for this session
    session = CredentialVault(session_only=True)
    session.check()
    session.save("Prod", SECRETS)
    assert session.load("Prod") == SECRETS
    assert CredentialVault(session_only=True).load("Prod") is None  # gone with the process


def test_a_foreign_keyring_entry_is_reported_not_crashed_on(mem_keyring: MemoryKeyring) -> None:
    mem_keyring.set_password("sfmonitor", "profile:Prod", "not json")
    with pytest.raises(KeyringUnavailableError, match="enter the profile's secrets again"):
        CredentialVault().load("Prod")


def test_real_secret_service(secret_service: keyring.backend.KeyringBackend) -> None:
    assert type(secret_service).__module__ == "keyring.backends.SecretService"
    vault = CredentialVault()
    vault.check()
    vault.save("Prod", SECRETS)
    assert CredentialVault().load("Prod") == SECRETS
    vault.delete("Prod")
    assert vault.load("Prod") is None
