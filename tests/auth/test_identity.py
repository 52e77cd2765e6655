"""Who and where after a login: the user from userinfo, the org from its Organization
record; "production" is what the org says, whatever the login URL."""

from __future__ import annotations

import pytest

from sfmonitor.auth import LoginError, identify, refresh_login
from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN, DEFAULT_USERNAME
from sfmonitor.emulator.faults import Pending
from sfmonitor.streaming import AuthenticationError
from tests.auth.conftest import MakeEmulator


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("settings", "kind", "production"),
    [
        ({}, "production", True),
        ({"org_type": "Enterprise Edition"}, "production", True),
        ({"org_is_sandbox": True, "org_type": "Enterprise Edition"}, "sandbox", False),
        (
            {"org_is_sandbox": True, "org_trial_expiration": "2027-01-31T00:00:00.000+0000"},
            "scratch",
            False,
        ),
    ],
)
async def test_who_and_where(
    make_emulator: MakeEmulator, settings: dict[str, object], kind: str, production: bool
) -> None:
    emu = await make_emulator(org_name="Acme Corp", **settings)
    result = await refresh_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN)
    who = result.identity
    assert who is not None
    assert (who.username, who.display_name) == (DEFAULT_USERNAME, "Demo User")
    assert who.org_id == emu.org.org_id == result.tokens.org_id
    assert who.user_id == emu.org.users[DEFAULT_USERNAME].user_id == result.tokens.user_id
    assert who.org_name == "Acme Corp"
    assert (who.kind, who.is_production) == (kind, production)
    assert who.organization_type == settings.get("org_type", "Developer Edition")


@pytest.mark.asyncio
async def test_a_refused_token_is_an_authentication_error(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    with pytest.raises(AuthenticationError) as caught:
        await identify(emu.url, "00D000000000000!not-a-token")
    assert not isinstance(caught.value, LoginError)
    assert caught.value.status == 403


@pytest.mark.asyncio
async def test_org_that_cannot_be_asked_leaves_the_org_unknown(
    make_emulator: MakeEmulator,
) -> None:
    emu = await make_emulator()
    emu.faults.add(Pending("http_status", 1, "rest", status=503))  # the REST query fails
    result = await refresh_login(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN)
    who = result.identity
    assert who is not None and who.username == DEFAULT_USERNAME
    assert (who.org_name, who.kind, who.is_production) == (None, "unknown", False)
    assert emu.faults.fired
