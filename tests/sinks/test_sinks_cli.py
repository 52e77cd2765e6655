"""``sfmonitor sinks`` and ``capture --sink`` as a user meets them: saving and listing
sinks, bad input refused with its reason (exit 2) and nothing saved, a profile removed
with its sinks' passwords, and exit code 8 when a sink refused events for good."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import asyncpg
import pytest

from sfmonitor.app import main
from sfmonitor.store import CaptureStore, CredentialVault, EventQuery
from tests.helpers.emulator_thread import SECRETS_STDIN, emulator_thread
from tests.helpers.keyring import MemoryKeyring
from tests.helpers.waiting import wait_until_blocking
from tests.sinks.capture_proc import CaptureProcess, emulator_profile, generate
from tests.sinks.servers import PG_PASSWORD, Postgres

EMU_URL = "http://127.0.0.1:9"  # never reached: these commands do not connect


def run(monkeypatch: pytest.MonkeyPatch, data: Path, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        return main(["--data-dir", str(data), *argv])
    except SystemExit as exc:
        return int(exc.code or 0)


def profile_id(data: Path) -> int:
    with CaptureStore.open(data, read_only=True) as store:
        (profile,) = store.profiles()
        assert profile.id is not None
        return profile.id


@pytest.fixture
def emu_profile(data_folder: Path) -> Path:
    from tests.helpers.profiles import save_emulator_profile

    with CaptureStore.open(data_folder) as store:
        save_emulator_profile(store, EMU_URL, ["/u/news"])
    return data_folder


def test_sinks_add_list_remove(
    monkeypatch: pytest.MonkeyPatch,
    emu_profile: Path,
    mem_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = emu_profile
    pg = "postgresql://sfm:Pg-Cli-Secret-77@db.example:5432/events?table=sf_events"
    assert run(monkeypatch, data, "sinks", "add", "--profile", "Emu", pg) == 0
    assert run(monkeypatch, data, "sinks", "add", "--profile", "Emu", "ndjson:///tmp/x.nd") == 0
    kafka = "kafka://ingest@broker.example:9093/sf.{org}.{channel}"
    code = run(
        monkeypatch, data, "sinks", "add", "--profile", "Emu", kafka, "--password-stdin",
        stdin="Kafka-Cli-Secret-88\n",
    )  # fmt: skip
    assert code == 0
    assert run(monkeypatch, data, "sinks", "--profile", "Emu") == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["postgresql://sfm@db.example:5432/events?table=sf_events", "saved"],
        ["ndjson:///tmp/x.nd", "saved"],
        [kafka + "?security=SASL_SSL&sasl=SCRAM-SHA-512", "saved"],  # the defaults, said
    ]
    assert all("no cursor yet" in line for line in lines)
    pid = profile_id(data)
    with CaptureStore.open(data, read_only=True) as store:
        vault = CredentialVault(scope=store.vault_scope)
    assert vault.load_sink_secret(pid, "postgresql://db.example:5432/events?table=sf_events") == (
        "Pg-Cli-Secret-77"
    )
    for secret in ("Pg-Cli-Secret-77", "Kafka-Cli-Secret-88"):
        assert secret not in out + err
        assert secret.encode() not in (data / "capture.db").read_bytes()
    assert len(mem_keyring.entries) == 2
    assert run(monkeypatch, data, "sinks", "remove", "--profile", "Emu", "ndjson:///tmp/x.nd") == 0
    assert run(monkeypatch, data, "sinks", "remove", "--profile", "Emu", "ndjson:///tmp/x.nd") == 2
    # removing the profile removes its sinks' passwords from the keyring
    assert run(monkeypatch, data, "profiles", "remove", "Emu") == 0
    assert mem_keyring.entries == {}


@pytest.mark.parametrize(
    ("argv", "stdin", "words"),
    [
        (["sinks", "add", "--profile", "Emu", "mysql://h/db"], "", "is not a sink URL"),
        (["sinks", "add", "--profile", "Nope", "ndjson:-"], "", "no profile named 'Nope'"),
        (["sinks", "add", "ndjson:-"], "", "--profile NAME is needed"),
        (["sinks", "add", "--profile", "Emu", "kafka://u@h:9093/t"], "", "needs a password"),
        (["sinks", "add", "--profile", "Emu", "kafka://h:9092/t?acks=0"], "", "acks=0"),
        (["sinks", "remove", "--profile", "Emu", "ndjson:///no"], "", "has no sink"),
        (
            ["capture", "--profile", "Emu", "--sink", "postgresql://u:Sec-Ret-99@h/db?x=1"],
            "",
            "unknown option 'x'",
        ),
        (
            ["capture", "--profile", "Emu", "--secrets-stdin", "--sink", "kafka://user@h:9093/t"],
            SECRETS_STDIN,
            "needs a password",
        ),
    ],
)
def test_bad_sinks_are_refused_with_the_reason_and_nothing_saved(
    monkeypatch: pytest.MonkeyPatch,
    emu_profile: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    words: str,
) -> None:
    assert run(monkeypatch, emu_profile, *argv, stdin=stdin) == 2
    err = capsys.readouterr().err
    assert words in err and "Sec-Ret-99" not in err
    with CaptureStore.open(emu_profile, read_only=True) as store:
        assert store.saved_sinks(profile_id(emu_profile)) == []


def test_a_sink_refusing_events_for_good_ends_the_run_with_exit_8(
    tmp_path: Path, pg_cluster: Postgres, pg_table: str
) -> None:
    """A table of another shape: the sink stops at once and says why; receiving goes on
    (the events are in the store); the stop then exits 8."""

    async def other_shape() -> None:
        conn = await asyncpg.connect(pg_cluster.url().split("?")[0], password=PG_PASSWORD)
        try:
            await conn.execute(f'CREATE TABLE "{pg_table}" (id int)')
        finally:
            await conn.close()

    asyncio.run(other_shape())
    folder = tmp_path / "data"
    with emulator_thread(connect_timeout=2.0) as emu:
        emulator_profile(folder, emu)
        run_ = CaptureProcess(folder, "--sink", pg_cluster.url(pg_table, password=True))
        run_.wait_live()
        wait_until_blocking(lambda: "stopped: " in run_.text, 60, "the sink to stop")
        generate(emu, 400)

        def stored() -> int:
            with CaptureStore.open(folder, read_only=True) as store:
                return store.count(EventQuery())

        wait_until_blocking(lambda: stored() >= 400, 60, "receiving to go on")
        assert run_.stop() == 8
    assert "exists with other columns" in run_.text
    assert "failed, 400 event(s) behind" in run_.text.splitlines()[-1]
    assert "its events stay in the store" in run_.text
    assert PG_PASSWORD not in run_.text
