"""The PostgreSQL sink (asyncpg): one row per event, a batch per transaction.

asyncpg rather than psycopg 3: it runs on any asyncio loop, including the proactor loops
Windows uses (psycopg's async mode refuses them, and the window runs on such a loop under
qasync), needs no libpq, and its ``executemany`` pipelines a batch in one round trip. Types
come from ``asyncpg-stubs``.

The table (``table_ddl``) is created if missing. Inserts are idempotent: a unique index on
(org id, channel, replay id) and ``ON CONFLICT DO NOTHING``, so a re-delivery (a crash
before the cursor moved, a replay of retained events) adds nothing.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from typing import Any

import asyncpg

from .base import SinkContext, SinkError, SinkRefusedError
from .outbox import OutboxRecord
from .urls import PostgresSpec

# JSON text PostgreSQL's jsonb refuses: a NUL escape, or a UTF-16 surrogate escape (a lone
# one is refused; a pair is fine, but it is cheaper to take the slow path for both)
_JSONB_TROUBLE = re.compile(r"\\u0000|\\u[dD][89abcdefABCDEF]")
_UNICODE_TROUBLE = re.compile("[\x00\ud800-\udfff]")


def table_ddl(table: str) -> list[str]:
    """The statements that create the sink's table and its indexes, if missing.

    ``table`` is a checked identifier (``PostgresSpec.table``): a name or ``schema.name``.
    Rows without a replay id (gap markers, which say that events could not be replayed)
    are kept unique by EventUuid or by their time.
    """
    quoted = ".".join(f'"{part}"' for part in table.split("."))
    name = table.split(".")[-1]
    return [
        f"""CREATE TABLE IF NOT EXISTS {quoted} (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- order of arrival here
    org_id      text        NOT NULL, -- 18-character Salesforce org id
    channel     text        NOT NULL, -- /event/Order__e, /data/AccountChangeEvent, ...
    replay_id   bigint,               -- null only for gap markers
    event_uuid  text,                 -- EventUuid (platform events, CDC), else null
    kind        text        NOT NULL, -- pushtopic, generic, platform_event, change_event,
                                      -- monitoring, unknown, gap
    created_at  timestamptz NOT NULL, -- when Salesforce created the event
    received_at timestamptz NOT NULL, -- when sfmonitor received it
    payload     jsonb       NOT NULL  -- the message exactly as received
)""",
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_replay" ON {quoted} '
        "(org_id, channel, replay_id) WHERE replay_id IS NOT NULL",
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_uuid" ON {quoted} '
        "(org_id, channel, event_uuid) WHERE replay_id IS NULL AND event_uuid IS NOT NULL",
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_other" ON {quoted} '
        "(org_id, channel, kind, created_at) WHERE replay_id IS NULL AND event_uuid IS NULL",
        f'CREATE INDEX IF NOT EXISTS "{name}_created" ON {quoted} (org_id, created_at)',
    ]


def insert_sql(table: str) -> str:
    quoted = ".".join(f'"{part}"' for part in table.split("."))
    return (
        f"INSERT INTO {quoted} (org_id, channel, replay_id, event_uuid, kind, created_at, "
        "received_at, payload) VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint / 1000.0), "
        "to_timestamp($7::bigint / 1000.0), $8::text::jsonb) ON CONFLICT DO NOTHING"
    )


def jsonb_text(raw: str) -> str:
    """The message as JSON that jsonb accepts: a NUL or a lone surrogate (which Salesforce
    text may hold, and the store keeps as escapes) becomes U+FFFD."""
    if not _JSONB_TROUBLE.search(raw):
        return raw
    value = json.loads(raw)
    return json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _UNICODE_TROUBLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


class PostgresSink:
    """Inserts each batch in one transaction; the table is made on ``open``."""

    def __init__(self, spec: PostgresSpec, context: SinkContext, password: str | None) -> None:
        self.spec = spec
        self.name = spec.url
        self.context = context
        self._password = password
        self._conn: asyncpg.Connection | None = None
        self._writing = False
        self._insert = insert_sql(spec.table)

    def __repr__(self) -> str:
        return f"PostgresSink({self.name!r})"

    async def open(self) -> None:
        try:
            conn = await asyncpg.connect(self.spec.dsn, password=self._password or None, timeout=30)
        except Exception as exc:
            raise SinkError(f"{self.name}: cannot connect: {_describe(exc)}") from None
        try:
            async with conn.transaction():
                # two captures (two orgs) may share the table: one creates it at a time
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self.spec.table)
                for statement in table_ddl(self.spec.table):
                    await conn.execute(statement)
        except Exception as exc:
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)
            doing = "cannot create the table"
            if isinstance(exc, asyncpg.exceptions.UndefinedColumnError):
                doing = f"{self.spec.table} exists with other columns (choose another ?table=)"
            raise self._error(exc, doing) from None
        self._conn = conn

    def _row(self, r: OutboxRecord) -> tuple[Any, ...]:
        return (
            self.context.org_id,
            r.channel,
            r.replay_id,
            r.event_uuid,
            r.kind,
            r.created_at,
            r.received_at,
            jsonb_text(r.raw),
        )

    async def write(self, batch: Sequence[OutboxRecord]) -> None:
        conn = self._conn
        if conn is None:
            raise SinkError(f"{self.name}: not connected")
        rows = [self._row(r) for r in batch]
        self._writing = True
        try:
            async with conn.transaction():
                await conn.executemany(self._insert, rows)
        except Exception as exc:
            raise self._error(exc, "cannot insert") from None
        self._writing = False

    def _error(self, exc: BaseException, doing: str) -> SinkError:
        text = f"{self.name}: {doing}: {_describe(exc)}"
        refused = (
            asyncpg.DataError,
            asyncpg.exceptions.UndefinedColumnError,
            asyncpg.exceptions.DatatypeMismatchError,
            asyncpg.exceptions.NotNullViolationError,
        )
        return SinkRefusedError(text) if isinstance(exc, refused) else SinkError(text)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._writing:  # a write never ended (a server that stopped answering): no goodbye
            conn.terminate()
            self._writing = False
            return
        with contextlib.suppress(Exception):
            await conn.close(timeout=5)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"
