"""Certificate verification: on by default; a self-signed server is refused until the
client is given its CA bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
    EmulatorConfig,
)
from sfmonitor.streaming import SimpleSalesforceStreaming, TransportError
from tests.helpers.tls import make_tls

pytestmark = pytest.mark.asyncio


async def test_self_signed_server_is_refused_by_default_and_trusted_with_its_ca(
    tmp_path: Path,
) -> None:
    ca, server_context = make_tls(tmp_path)
    emulator = Emulator(EmulatorConfig(connect_timeout=1.0))
    url = await emulator.start("127.0.0.1", 0, ssl_context=server_context)
    try:
        assert url.startswith("https://")
        credentials = dict(
            username=DEFAULT_USERNAME,
            password=DEFAULT_PASSWORD,
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            login_url=url,
        )
        refused = SimpleSalesforceStreaming(**credentials)
        with pytest.raises(TransportError, match=r"(?i)certificate"):
            await refused.start()
        await refused.stop()

        async with SimpleSalesforceStreaming(**credentials, ssl=str(ca)) as client:
            reply = await client.subscribe("/u/news")
            assert reply[0]["successful"]
            emulator.org.publish_any("/u/news", "over TLS")
            async for event in client.events():
                assert event["data"]["payload"] == "over TLS"
                break
    finally:
        await emulator.stop()
