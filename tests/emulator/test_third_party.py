"""An unmodified third-party client from PyPI (aiosfstream-ng, on aiocometd-ng) receives
events from the emulator; only where it logs in is changed."""

from __future__ import annotations

import asyncio

import pytest
from aiosfstream_ng import Client, PasswordAuthenticator

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
)


class EmulatorLogin(PasswordAuthenticator):  # type: ignore[misc]
    """The library's password flow, pointed at the emulator instead of login.salesforce.com."""

    token_url = ""

    @property
    def _token_url(self) -> str:
        return self.token_url


@pytest.mark.asyncio
async def test_aiosfstream_receives_every_event_kind(emulator: Emulator) -> None:
    # aiosfstream-ng raises "No message creation date found" on monitoring events, which
    # carry EventDate only (reference §3.6); the emulator's variant with CreatedDate is used.
    emulator.org.config.monitoring_created_date = True
    # aiohttp's default cookie jar ignores cookies from IP hosts; a host name keeps
    # BAYEUX_BROWSER working, as it does against *.my.salesforce.com
    port = emulator.url.rsplit(":", 1)[1]
    auth = EmulatorLogin(
        DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USERNAME, DEFAULT_PASSWORD
    )
    auth.token_url = f"http://localhost:{port}/services/oauth2/token"
    org = emulator.org
    org.ensure_topic("Accounts")
    channels = [
        "/topic/Accounts",
        "/event/Low_Ink__e",
        "/data/ChangeEvents",
        "/u/news",
        "/event/LoginEventStream",
    ]
    received: list[dict[str, object]] = []

    async def consume() -> None:
        async with Client(auth) as client:
            for ch in channels:
                await client.subscribe(ch)
            org.create_record("Account", {"Name": "Acme"})  # PushTopic + CDC
            org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": 0.1})
            org.publish_generic("/u/news", "hello")
            org.publish_monitoring("LoginEventStream", {"Username": "ada@example.com"})
            async for message in client:
                received.append(message)
                if len(received) == 5:
                    break

    await asyncio.wait_for(consume(), 30)
    assert sorted(m["channel"] for m in received) == sorted(channels)  # type: ignore[type-var]
