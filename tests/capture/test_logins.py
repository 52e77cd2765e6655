"""What a capture learns from its logins, against the emulator: who and where it is (asked
once, after the first login, kept on the profile), a refresh token Salesforce rotated
(kept where the old one was), a JWT key file read at connect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from sfmonitor.auth import LoginError
from sfmonitor.capture import Capture
from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)
from sfmonitor.store import (
    AuthKind,
    CaptureStore,
    CredentialVault,
    Environment,
    Profile,
    Secrets,
    Subscription,
)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        connect_timeout=2.0,
        org_is_sandbox=True,
        org_trial_expiration="2027-01-31",
        org_name="Acme scratch",
    )
    async with Emulator(config) as emu:
        yield emu


def saved(store: CaptureStore, emulator: Emulator, kind: AuthKind, **fields: object) -> Profile:
    profile = store.save_profile(
        Profile(
            "Acme",
            Environment.PRODUCTION,  # the URL says production; the org will say otherwise
            emulator.url,
            kind,
            client_id=DEFAULT_CLIENT_ID,
            **fields,  # type: ignore[arg-type]
        )
    )
    assert profile.id is not None
    store.set_subscription(profile.id, Subscription("/u/news"))
    return profile


async def running(capture: Capture) -> asyncio.Task[None]:
    task = asyncio.ensure_future(capture.run())
    await wait_until(lambda: capture.client.subscriptions == ["/u/news"] or task.done(), 20)
    return task


async def test_who_and_where_is_asked_once_and_kept_on_the_profile(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = saved(store, emulator, AuthKind.CLIENT_CREDENTIALS)
    assert profile.is_production
    heard: list[Profile] = []
    capture = Capture(
        store,
        profile,
        Secrets(client_secret=DEFAULT_CLIENT_SECRET),
        store.subscriptions(profile.id or 0),
        on_identity=heard.append,
    )
    task = await running(capture)
    await wait_until(lambda: heard, 20)
    logins = emulator.org.token_requests
    emulator.revoke_tokens()  # a new session with a new login: not asked again
    emulator.expire_sessions()
    await wait_until(lambda: emulator.org.token_requests > logins, 20)
    await wait_until(lambda: emulator.org.active_sessions() == 1, 20)
    await asyncio.sleep(0.3)  # a second question would have been asked by now
    await capture.stop()
    await task
    (said,) = heard
    assert said.org.line() == f"{DEFAULT_USERNAME} · Acme scratch (scratch)"
    assert said.org.org_id == emulator.org.org_id and not said.is_production
    (kept,) = store.profiles()
    assert kept.org == said.org and not kept.is_production  # the org's word, not the URL's


async def test_a_rotated_refresh_token_replaces_the_old_one_where_it_was(
    store: CaptureStore, emulator: Emulator
) -> None:
    emulator.org.apps[DEFAULT_CLIENT_ID].rotate_refresh_token = True
    vault = CredentialVault(scope=store.vault_scope)
    profiles = {
        "keyring": saved(store, emulator, AuthKind.WEB),
        "session": store.save_profile(
            Profile(
                "Session",
                Environment.CUSTOM,
                emulator.url,
                AuthKind.WEB,
                client_id=DEFAULT_CLIENT_ID,
            )
        ),
    }
    vault.save("Acme", Secrets(refresh_token=DEFAULT_REFRESH_TOKEN))
    for where, profile in profiles.items():
        token = next(iter(emulator.org.refresh_tokens))  # the one the org knows now
        secrets = Secrets(refresh_token=token)
        if where == "session":
            vault.remember(profile.name, secrets)  # typed for this session only
        assert profile.id is not None
        store.set_subscription(profile.id, Subscription("/u/news"))
        capture = Capture(store, profile, secrets, store.subscriptions(profile.id), vault=vault)
        task = await running(capture)
        name, given = profile.name, secrets
        await wait_until(lambda: vault.load(name) != given, 20)  # noqa: B023
        await capture.stop()
        await task
        rotated = vault.load(profile.name)
        assert rotated is not None and rotated.refresh_token in emulator.org.refresh_tokens
        assert token not in emulator.org.refresh_tokens  # the old one no longer works
    assert CredentialVault(scope=store.vault_scope).load("Session") is None  # never on disk


async def test_a_rotated_token_given_for_one_run_is_said_not_kept(
    store: CaptureStore, emulator: Emulator
) -> None:
    emulator.org.apps[DEFAULT_CLIENT_ID].rotate_refresh_token = True
    profile = saved(store, emulator, AuthKind.WEB)
    warnings: list[str] = []
    capture = Capture(
        store,
        profile,
        Secrets(refresh_token=DEFAULT_REFRESH_TOKEN),
        store.subscriptions(profile.id or 0),
        on_warning=warnings.append,
    )
    task = await running(capture)
    await capture.stop()
    await task
    assert any("sfmonitor profiles login Acme" in w for w in warnings)
    assert all(DEFAULT_REFRESH_TOKEN not in w for w in warnings)


async def test_a_jwt_key_file_is_read_at_connect(
    store: CaptureStore, emulator: Emulator, tmp_path: Path
) -> None:
    profile = saved(
        store,
        emulator,
        AuthKind.JWT,
        username=DEFAULT_USERNAME,
        key_file=str(tmp_path / "gone.key"),
    )
    capture = Capture(store, profile, Secrets(), store.subscriptions(profile.id or 0))
    with pytest.raises(LoginError, match=r"cannot read the key file .*gone\.key"):
        await capture.run()
