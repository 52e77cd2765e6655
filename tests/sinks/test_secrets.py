"""A sink's password stays in memory: never in the URL kept, the cursors, the logs, the
lag shown, an error or a repr, whether the server takes it or refuses it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sfmonitor.sinks import SinkState, parse_sink_url, split_secret
from tests.helpers.waiting import wait_until
from tests.sinks.helpers import CURSORS, Filled, forward_all, forwarder_for
from tests.sinks.servers import PG_PASSWORD, Postgres

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]


async def test_a_postgres_password_never_shows(
    filled: Filled, pg_cluster: Postgres, pg_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-pg-Passw0rd-xyz"
    bad_url = pg_cluster.url(pg_table).replace("sfm@", f"sfm:{wrong}@")
    refused = forwarder_for(filled.folder, filled.profile_id, bad_url, filled.org_id)
    task = asyncio.ensure_future(refused.run())
    await wait_until(lambda: refused.backoff.attempt >= 2, 60, "two refused logins")
    refused.stop()
    await task
    assert refused.lag.state is SinkState.STOPPED and refused.lag.forwarded == 0
    assert "password authentication failed" in (refused.lag.error or "")

    url = pg_cluster.url(pg_table, password=True)
    clean, secret = split_secret(url)
    assert secret == PG_PASSWORD and PG_PASSWORD not in clean
    assert parse_sink_url(url).url == parse_sink_url(clean).url
    forwarder = forwarder_for(filled.folder, filled.profile_id, url, filled.org_id)
    await forward_all(forwarder, filled.count)

    cursors = (filled.folder / CURSORS).read_bytes()
    for password in (wrong, PG_PASSWORD):
        for shown in (
            caplog.text,
            repr(refused.lag),
            repr(forwarder.lag),
            repr(forwarder.sink),
            forwarder.sink.name,
            repr(parse_sink_url(url)),
        ):
            assert password not in shown
        assert password.encode() not in cursors
