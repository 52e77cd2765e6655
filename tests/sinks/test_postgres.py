"""The PostgreSQL sink against a real server: re-deliveries add nothing, the table is the
documented one, odd text is kept, two orgs share a table, a wrong table shape stops it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from sfmonitor.sinks import SinkContext, SinkRefusedError, SinkState, make_sink, parse_sink_url
from sfmonitor.sinks.outbox import OutboxRecord
from sfmonitor.sinks.postgres import jsonb_text
from tests.sinks.helpers import CURSORS, Filled, check_complete, forward_all, forwarder_for
from tests.sinks.servers import PG_PASSWORD, Postgres

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(300)]


async def count_rows(server: Postgres, table: str) -> int:
    conn = await asyncpg.connect(server.url().split("?")[0], password=PG_PASSWORD)
    try:
        return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))
    finally:
        await conn.close()


async def test_replaying_every_event_into_postgres_adds_nothing(
    filled: Filled, pg_cluster: Postgres, pg_table: str
) -> None:
    url = pg_cluster.url(pg_table, password=True)
    await forward_all(forwarder_for(filled.folder, filled.profile_id, url, filled.org_id), 10_000)
    assert await count_rows(pg_cluster, pg_table) == filled.count
    # the cursor forgotten (a new machine, a replay of everything retained): all sent again
    (filled.folder / CURSORS).unlink()
    again = forwarder_for(filled.folder, filled.profile_id, url, filled.org_id)
    await forward_all(again, filled.count)
    assert again.lag.forwarded == filled.count
    assert await count_rows(pg_cluster, pg_table) == filled.count
    # another org's capture into the same table: its own rows
    (filled.folder / CURSORS).unlink()
    other = forwarder_for(filled.folder, filled.profile_id, url, "00D000000000001AAA")
    await forward_all(other, filled.count)
    assert await count_rows(pg_cluster, pg_table) == 2 * filled.count


async def test_the_table_holds_what_the_docs_say(
    filled: Filled, pg_cluster: Postgres, pg_table: str
) -> None:
    url = pg_cluster.url(pg_table, password=True)
    await forward_all(forwarder_for(filled.folder, filled.profile_id, url, filled.org_id), 10_000)
    conn = await asyncpg.connect(pg_cluster.url().split("?")[0], password=PG_PASSWORD)
    try:
        columns = await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = $1 ORDER BY ordinal_position",
            pg_table,
        )
        rows = await conn.fetch(f'SELECT * FROM "{pg_table}" ORDER BY seq')
    finally:
        await conn.close()
    assert [(c["column_name"], c["data_type"]) for c in columns] == [
        ("seq", "bigint"),
        ("org_id", "text"),
        ("channel", "text"),
        ("replay_id", "bigint"),
        ("event_uuid", "text"),
        ("kind", "text"),
        ("created_at", "timestamp with time zone"),
        ("received_at", "timestamp with time zone"),
        ("payload", "jsonb"),
    ]
    check_complete(filled.order, [(r["channel"], r["replay_id"]) for r in rows])
    by_channel = {r["channel"]: r for r in rows}
    platform = by_channel["/event/Low_Ink__e"]
    assert platform["kind"] == "platform_event" and platform["event_uuid"]
    assert platform["org_id"] == filled.org_id
    assert '"replayId"' in platform["payload"] and platform["created_at"].tzinfo is not None


def odd(
    record_id: int, raw: str, replay_id: int | None = None, kind: str = "generic"
) -> OutboxRecord:
    return OutboxRecord(
        record_id, "/u/odd", replay_id, None, kind, 1_764_300_000_000, 1_764_300_000_005, raw, "{}"
    )


async def test_odd_text_and_gap_rows_are_stored_not_refused(
    pg_cluster: Postgres, pg_table: str
) -> None:
    """jsonb refuses NUL and lone surrogates, which Salesforce text may hold; a gap marker
    has no replay id: each is stored once, however often it is sent."""
    nul = r'{"channel":"/u/odd","data":{"payload":"a\u0000b","event":{"replayId":1}}}'
    lone = r'{"channel":"/u/odd","data":{"payload":"x\ud800y \ud83d\ude00","event":{"replayId":2}}}'
    gap = '{"gap":{"storedReplayId":5,"action":"replay_all","serverText":"too old"}}'
    batch = [odd(1, nul, 1), odd(2, lone, 2), odd(3, gap, None, "gap")]
    spec = parse_sink_url(pg_cluster.url(pg_table))
    sink = make_sink(spec, SinkContext("00D000000000001AAA"), PG_PASSWORD)
    await sink.open()
    try:
        await sink.write(batch)
        await sink.write(batch)
    finally:
        await sink.close()
    conn = await asyncpg.connect(pg_cluster.url().split("?")[0], password=PG_PASSWORD)
    try:
        rows = await conn.fetch(
            f'SELECT replay_id, kind, payload::text AS p FROM "{pg_table}" ORDER BY seq'
        )
    finally:
        await conn.close()
    assert [(r["replay_id"], r["kind"]) for r in rows] == [
        (1, "generic"),
        (2, "generic"),
        (None, "gap"),
    ]
    assert "a\ufffdb" in rows[0]["p"] and "x\ufffdy \U0001f600" in rows[1]["p"]
    assert jsonb_text('{"a":"plain"}') == '{"a":"plain"}'


async def test_a_table_of_another_shape_stops_the_sink_and_keeps_the_events(
    filled: Filled, pg_cluster: Postgres, pg_table: str
) -> None:
    conn = await asyncpg.connect(pg_cluster.url().split("?")[0], password=PG_PASSWORD)
    try:
        await conn.execute(f'CREATE TABLE "{pg_table}" (id int)')
    finally:
        await conn.close()
    forwarder = forwarder_for(
        filled.folder, filled.profile_id, pg_cluster.url(pg_table, password=True), filled.org_id
    )
    with pytest.raises(SinkRefusedError, match="exists with other columns"):
        await asyncio.wait_for(forwarder.run(), 60)
    assert forwarder.lag.state is SinkState.FAILED and "does not exist" in (
        forwarder.lag.error or ""
    )
    assert forwarder.lag.events == filled.count and forwarder.lag.cursor == 0
