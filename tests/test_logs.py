"""Log files rotate and mask secrets and access tokens."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp import web

from sfmonitor import logs
from sfmonitor.streaming import SimpleSalesforceStreaming, TransportError
from tests.helpers.hostile import Handler, HostileServer


def test_logs_rotate_and_mask(tmp_path: Path) -> None:
    path = logs.setup_logging(tmp_path, "DEBUG")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "sfmonitor", False))
    handler.maxBytes = 20_000  # type: ignore[attr-defined]
    logs.register_secret("Very-Secret-Pw-123")
    log = logging.getLogger("sfmonitor.test")
    try:
        for i in range(2000):
            log.info(
                "line %d password is Very-Secret-Pw-123, token 00D5g000004ABCD!AQ8AQJqPxyzxyz1234",
                i,
            )
        log.debug("Authorization: Bearer abcdefghijklmnop client_secret=cs-top-secret")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["sfmonitor.log", *[f"sfmonitor.log.{i}" for i in range(1, 6)]]
    text = "".join(p.read_text() for p in path.parent.iterdir())
    for secret in ("Very-Secret-Pw-123", "AQ8AQJqPxyzxyz1234", "abcdefghijklmnop", "cs-top-secret"):
        assert secret not in text
    assert "…(masked)" in text and "client_secret=***" in text


JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjI0MiJ9.eyJzdWIiOiJhZGFAZXhhbXBsZS5jb20iLCJzY3AiOiJhcGkifQ"
    ".c2lnbmF0dXJlLW9mLWEtand0LXRva2VuLXRoYXQtaXMtbG9uZw"
)
OPAQUE = "Zq9xT2mVbQ7rLk4WnP8sYd3HfJ6gCa1E"  # no recognisable shape at all


@pytest.mark.parametrize("token", [JWT, OPAQUE], ids=["jwt", "opaque"])
def test_no_access_token_reaches_the_log_at_debug(tmp_path: Path, token: str) -> None:
    """Whatever its shape, a token the client receives is never logged: not on login,
    not when a server echoes it back in an error the client reports."""
    path = logs.setup_logging(tmp_path, "DEBUG")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "sfmonitor", False))

    async def scenario() -> None:
        async with HostileServer() as org:
            org.access_token = token
            org.on("/cometd/68.0", echo_token(token))
            client = SimpleSalesforceStreaming(
                "ada@example.com", "pw", "cid", "secret", login_url=org.url
            )
            with pytest.raises(TransportError, match="HTTP 500"):
                await client.start()
            await client.stop()
            logging.getLogger("sfmonitor.test").error("start failed", exc_info=True)

    try:
        asyncio.run(scenario())
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "logged in: instance" in text and "HTTP 500" in text  # it did log, at DEBUG
    assert token[:16] not in text  # nor a truncated quote of it (8 characters stay: masked)


def echo_token(token: str) -> Handler:
    """A CometD endpoint that answers with an error page quoting the token back."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text=f"invalid session {token} (token={token})")

    return handler
