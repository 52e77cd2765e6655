"""One kind of sink under test: its URL, starting it late, and reading it back as
(channel, replay id) keys in the order each channel's events were written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from sfmonitor.sinks import KafkaSpec, parse_sink_url
from tests.sinks.helpers import CHANNELS, Key, read_kafka, read_ndjson, read_postgres
from tests.sinks.servers import Postgres, Tansu


@dataclass
class Target:
    kind: str
    url: str  # with a password where the server wants one
    server: Tansu | Postgres | None = None
    folder: Path | None = None  # the NDJSON file's folder (missing = "down")
    table: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def bring_up(self) -> None:
        if self.server is not None:
            self.server.start()
        elif self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    async def read(self, org_id: str) -> list[Key]:
        if self.kind == "ndjson":
            assert self.folder is not None
            records = read_ndjson(self.folder / "events.ndjson")
            return [(r["channel"], r["replayId"]) for r in records if r["kind"] != "gap"]
        if self.kind == "kafka":
            assert isinstance(self.server, Tansu)
            spec = parse_sink_url(self.url)
            assert isinstance(spec, KafkaSpec)
            topics = [spec.topic_for(org_id, c) for c in CHANNELS]
            records = await read_kafka(self.server.bootstrap, topics)
            self.extra["records"] = records
            values = [orjson.loads(r.value) for r in records]
            return [(v["channel"], v["replayId"]) for v in values if v["kind"] != "gap"]
        rows = await read_postgres(self.url, self.table)
        self.extra["rows"] = rows
        return [(r["channel"], r["replay_id"]) for r in rows if r["kind"] != "gap"]


def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path, up: bool) -> Target:
    """A target of ``kind``, started when ``up`` (else started later by ``bring_up``)."""
    if kind == "ndjson":
        folder = tmp_path / "out"
        target = Target(kind, f"ndjson://{folder}/events.ndjson", folder=folder)
    elif kind == "kafka":
        broker: Tansu = request.getfixturevalue("tansu" if up else "tansu_stopped")
        target = Target(kind, f"kafka://{broker.bootstrap}/sf.{{org}}.{{channel}}", broker)
        return target
    else:
        table = request.getfixturevalue("pg_table")
        server: Postgres = request.getfixturevalue("pg_cluster" if up else "pg_stopped")
        return Target(kind, server.url(table, password=True), server, table=table)
    if up:
        target.bring_up()
    return target
