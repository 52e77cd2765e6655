"""What a profile keeps of its login kind and of its org's word (schema step
``login_settings``): an older file's profiles keep working, the org's kind decides
"production" once known, and none of it is a secret."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sfmonitor.auth import DEFAULT_PORT
from sfmonitor.store import (
    AuthKind,
    CaptureStore,
    CredentialVault,
    Environment,
    OrgInfo,
    Profile,
    Secrets,
)
from sfmonitor.store.models import DEFAULT_CALLBACK_PORT
from sfmonitor.store.schema import MIGRATIONS, SCHEMA_VERSION, login_settings, migrate

ACME = OrgInfo("00D000000000001AAA", "Acme Corp", "ada@acme.com", "production")


def test_an_older_file_gets_the_login_settings_and_keeps_its_profiles(data_folder: Path) -> None:
    data_folder.mkdir()
    path = data_folder / "capture.db"
    conn = sqlite3.connect(path, isolation_level=None)
    before = MIGRATIONS.index(login_settings())
    migrate(conn, path, target=before)
    for name, kind in (("Pw", "password"), ("Rt", "refresh_token")):
        conn.execute(
            "INSERT INTO profiles (name, environment, login_url, auth_kind, username, "
            "client_id, created_at) VALUES (?, 'custom', 'https://acme.my.salesforce.com', "
            "?, 'ada@acme.com', '3MVG9', 1)",
            (name, kind),
        )
    conn.close()
    with CaptureStore.open(data_folder) as store:
        pw, rt = store.profiles()
        assert (pw.auth_kind, rt.auth_kind) == (AuthKind.PASSWORD, AuthKind.REFRESH_TOKEN)
        assert rt.callback_port == DEFAULT_CALLBACK_PORT and rt.org == OrgInfo()
        assert not rt.is_production  # a My Domain URL and no login yet: not known
    check = sqlite3.connect(path)
    # the stored word is the one of --auth now
    assert check.execute("SELECT auth_kind FROM profiles WHERE name = 'Rt'").fetchone() == (
        "refresh-token",
    )
    assert check.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    check.close()


def test_every_kind_is_saved_and_read_back(store: CaptureStore) -> None:
    for n, kind in enumerate(AuthKind):
        store.save_profile(
            Profile(
                f"P{n}",
                Environment.CUSTOM,
                "https://acme.my.salesforce.com",
                kind,
                "ada@acme.com",
                "3MVG9",
                callback_port=1718,
                sf_org="acme",
                key_file="/etc/sfmonitor/acme.key",
                org=ACME,
            )
        )
    read = {p.name: p for p in store.profiles()}
    assert [read[f"P{n}"].auth_kind for n in range(len(AuthKind))] == list(AuthKind)
    assert {(p.callback_port, p.sf_org, p.key_file, p.org) for p in read.values()} == {
        (1718, "acme", "/etc/sfmonitor/acme.key", ACME)
    }


def test_the_orgs_word_decides_production(store: CaptureStore) -> None:
    saved = store.save_profile(
        Profile("Acme", Environment.CUSTOM, "https://acme.my.salesforce.com")
    )
    assert saved.id is not None and not saved.is_production
    store.set_profile_org(saved.id, ACME)
    (acme,) = store.profiles()
    assert acme.org == ACME and acme.is_production
    assert acme.org.line() == "ada@acme.com · Acme Corp (production)"
    # a sandbox reached through login.salesforce.com is no production org
    sandbox = OrgInfo("00D1", "Acme UAT", "ada@acme.com.uat", "sandbox")
    behind_login = Profile("UAT", Environment.PRODUCTION, "https://login.salesforce.com")
    assert behind_login.is_production
    assert not Profile("UAT", Environment.PRODUCTION, "x", org=sandbox).is_production
    # an org that could not say (no access to Organization): the URL's word again
    unknown = OrgInfo("00D1", "", "ada@acme.com", "unknown")
    assert Profile("P", Environment.PRODUCTION, "x", org=unknown).is_production
    assert not Profile("D", Environment.DEMO, "x", org=ACME).is_production  # never the demo


def test_a_callback_port_out_of_range_is_refused(store: CaptureStore) -> None:
    with pytest.raises(ValueError, match="callback port must be 1 to 65535"):
        store.save_profile(Profile("P", Environment.PRODUCTION, "x", callback_port=70000))
    assert store.profiles() == []


def test_the_store_and_the_login_agree_on_the_default_port() -> None:
    assert DEFAULT_CALLBACK_PORT == DEFAULT_PORT


def test_what_each_kind_keeps_in_the_keyring() -> None:
    assert AuthKind.WEB.keyring_secrets == ("refresh_token",)
    assert AuthKind.SF_CLI.keyring_secrets == AuthKind.JWT.keyring_secrets == ()
    assert AuthKind("refresh_token") is AuthKind.REFRESH_TOKEN  # an older file's word
    with pytest.raises(ValueError):
        AuthKind("oauth")


def test_a_rotated_secret_stays_where_it_was_kept(store: CaptureStore) -> None:
    vault = CredentialVault(scope=store.vault_scope)
    vault.save("Kept", Secrets(refresh_token="5Aep-old"))
    vault.update("Kept", Secrets(refresh_token="5Aep-new"))
    assert CredentialVault(scope=store.vault_scope).load("Kept") == Secrets(
        refresh_token="5Aep-new"
    )
    vault.remember("Session", Secrets(refresh_token="5Aep-typed"))
    vault.update("Session", Secrets(refresh_token="5Aep-rotated"))
    assert vault.load("Session") == Secrets(refresh_token="5Aep-rotated")
    assert CredentialVault(scope=store.vault_scope).load("Session") is None  # not on disk
