"""A sink's password end to end, in real processes and a real Secret Service: saved with
``sinks add`` (given in the URL), used by ``capture`` from the keyring, and then found
nowhere else: not in the data folder (store, WAL, logs at DEBUG), the saved URL, the
``sinks`` listing or anything printed; ``sinks remove`` takes it out of the keyring."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import keyring
import keyring.backend
import pytest

from sfmonitor.sinks import parse_sink_url
from sfmonitor.store import CaptureStore
from tests.helpers.emulator_thread import SECRETS_STDIN, emulator_thread, profiles_add
from tests.sinks.capture_proc import CaptureProcess, generate, sfmonitor
from tests.sinks.helpers import CHANNELS, read_postgres
from tests.sinks.servers import PG_PASSWORD, Postgres

pytestmark = pytest.mark.timeout(300)


def test_a_sink_password_lives_in_the_keyring_only(
    tmp_path: Path,
    secret_service: keyring.backend.KeyringBackend,
    pg_cluster: Postgres,
    pg_table: str,
) -> None:
    folder = tmp_path / "data"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}  # the Secret Service's
    url = pg_cluster.url(pg_table, password=True)
    printed: list[str] = []

    def run(*args: str, stdin: str = "") -> str:
        done = sfmonitor(folder, "--log-level", "DEBUG", *args, stdin=stdin, env=env)
        printed.extend((done.stdout, done.stderr))
        assert done.returncode == 0, done.stderr
        return done.stdout

    with emulator_thread(connect_timeout=2.0) as emu:
        emu.call(lambda: emu.emulator.org.ensure_topic("Foo"))
        run(*profiles_add(emu.url, CHANNELS), stdin=SECRETS_STDIN)
        run("sinks", "add", "--profile", "Emu", url)
        capture = CaptureProcess(folder, env=env, stdin=None)  # secrets from the keyring
        capture.wait_live()
        generate(emu, 500)
        capture.wait_status(lambda s: s.forwarded >= 500 and s.behind == 0, 120, "forwarded")
        listing = run("sinks", "--profile", "Emu")
        assert capture.stop() == 0, capture.text
        printed.append(capture.text)
    rows = asyncio.run(read_postgres(url, pg_table))
    assert len(rows) == 500  # the password from the keyring opened the database
    spec = parse_sink_url(url)
    with CaptureStore.open(folder, read_only=True) as store:
        (profile,) = store.profiles()
        assert profile.id is not None
        assert [s.url for s in store.saved_sinks(profile.id)] == [spec.url]
        entry = f"sink:{store.vault_scope}:{profile.id}:{spec.sink_id}"
    assert keyring.get_password("sfmonitor", entry) == PG_PASSWORD
    assert spec.url in listing and "500 acknowledged" in listing
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"capture.db", "sfmonitor.log"}
    assert "sink" in (folder / "logs" / "sfmonitor.log").read_text()
    for path in files:
        assert PG_PASSWORD.encode() not in path.read_bytes(), f"the password is in {path}"
    for text in printed:
        assert PG_PASSWORD not in text, "the password was printed"
    run("sinks", "remove", "--profile", "Emu", spec.url)
    assert keyring.get_password("sfmonitor", entry) is None
