"""``sfmonitor capture --sink`` as a real process against real servers: 10,000 emulator
events reach Kafka and PostgreSQL in order per channel, through a SIGKILL in the middle
of a batch and a restart; a sink down at start grows a lag that ``sfmonitor sinks`` and
the status line show, and that drains when it comes back; a replay of retained events
adds nothing to PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from sfmonitor.app import main
from sfmonitor.store import CaptureStore, EventQuery
from tests.helpers.emulator_thread import SECRETS_STDIN, emulator_thread
from tests.helpers.waiting import wait_until_blocking
from tests.sinks.capture_proc import CaptureProcess, emulator_profile, generate, sfmonitor
from tests.sinks.helpers import check_complete, stored_order
from tests.sinks.servers import PG_PASSWORD
from tests.sinks.targets import Target, make_target

pytestmark = pytest.mark.timeout(300)
EVENTS = 10_000


def stored(folder: Path) -> int:
    with CaptureStore.open(folder, read_only=True) as store:
        return store.count(EventQuery())


def read_back(target: Target, org_id: str) -> list[tuple[str, int]]:
    return asyncio.run(target.read(org_id))


@pytest.mark.parametrize("kind", ["kafka", "postgres"])
def test_ten_thousand_events_reach_the_sink_through_a_kill_mid_batch(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target(kind, request, tmp_path, up=True)
    assert target.server is not None
    folder = tmp_path / "data"
    with emulator_thread(connect_timeout=2.0) as emu:
        org_id = emu.emulator.org.org_id
        pid = emulator_profile(folder, emu)
        first = CaptureProcess(folder, "--sink", target.url, name="first")
        first.wait_live()
        generate(emu, EVENTS)
        first.wait_status(lambda s: s.forwarded >= 1000, 120, "the first batches")
        # the sink stops answering: a batch is in flight, and stays there
        target.server.pause()
        try:
            mark = len(first.lines)

            def stuck() -> bool:
                first.check_running()
                counts = [s.forwarded for s in first.statuses(mark) if s.behind]
                return len(counts) >= 3 and counts[-1] == counts[-3]

            wait_until_blocking(stuck, 60, "the forwarder stuck in a batch")
            # receiving never waits for the sink: every event is stored meanwhile
            wait_until_blocking(lambda: stored(folder) >= EVENTS, 120, "every event stored")
            first.kill()
        finally:
            target.server.resume()
        sent = read_back(target, org_id)
        assert 0 < len(set(sent)) < EVENTS
        # started again: it resends from its cursor and catches up
        second = CaptureProcess(folder, "--sink", target.url, name="second")
        second.wait_status(lambda s: s.behind == 0 and s.forwarded > 0, 120, "caught up")
        assert second.stop() == 0, second.text
    order = stored_order(folder / "capture.db", pid)
    assert sum(map(len, order.values())) == EVENTS
    duplicates = check_complete(order, read_back(target, org_id))
    if kind == "postgres":
        assert duplicates == 0
    for process in (first, second):
        assert PG_PASSWORD not in process.text
        warned = "password in a command line is visible" in process.text
        assert warned == (kind == "postgres")  # its URL holds the password


def test_a_replay_of_retained_events_adds_nothing_to_postgres(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target("postgres", request, tmp_path, up=True)
    with emulator_thread(connect_timeout=2.0) as emu:
        org_id = emu.emulator.org.org_id
        runs = []
        for name in ("first", "again"):  # again: a new data folder replays what is retained
            folder = tmp_path / name
            emulator_profile(folder, emu)
            run = CaptureProcess(folder, "--replay", "all", "--sink", target.url, name=name)
            if name == "first":
                run.wait_live()
                generate(emu, 3000)
            run.wait_status(lambda s: s.forwarded >= 3000 and s.behind == 0, 120, "forwarded")
            assert run.stop() == 0, run.text
            runs.append(run)
            assert stored(folder) == 3000
    rows = read_back(target, org_id)
    assert len(rows) == 3000 == len(set(rows))
    assert "3,000 forwarded" in runs[1].text  # sent again, all of it, and nothing added


def add_sink(folder: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """``sfmonitor sinks add`` in this process (its keyring is the test's)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return main(["--data-dir", str(folder), "sinks", "add", "--profile", "Emu", url])


@pytest.mark.parametrize("kind", ["kafka", "postgres"])
def test_a_saved_sink_down_at_start_grows_a_lag_that_drains_when_it_comes_back(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = make_target(kind, request, tmp_path, up=False)
    folder = tmp_path / "data"
    count = 3000
    with emulator_thread(connect_timeout=2.0) as emu:
        org_id = emu.emulator.org.org_id
        pid = emulator_profile(folder, emu)
        assert add_sink(folder, target.url, monkeypatch) == 0
        # no keyring in the service: the sink's password follows the profile's on stdin
        password = f"{PG_PASSWORD}\n" if kind == "postgres" else ""
        run = CaptureProcess(folder, stdin=SECRETS_STDIN + password)
        run.wait_live()
        generate(emu, count)
        wait_until_blocking(lambda: stored(folder) >= count, 120, "every event stored")
        down = run.wait_status(lambda s: s.behind >= count, 60, "the lag to grow")
        assert down.state == "retrying" and down.forwarded == 0
        listing = sfmonitor(folder, "sinks", "--profile", "Emu")
        assert listing.returncode == 0, listing.stderr
        assert "\tsaved\tcursor 0 (0 acknowledged" in listing.stdout
        assert f"{count:,} event(s) behind, oldest received" in listing.stdout
        target.bring_up()
        run.wait_status(lambda s: s.behind == 0 and s.forwarded >= count, 120, "the lag to drain")
        listing = sfmonitor(folder, "sinks", "--profile", "Emu")
        assert f"({count:,} acknowledged" in listing.stdout
        assert "\t0 event(s) behind" in listing.stdout
        assert run.stop() == 0, run.text
    assert "trying again, with growing pauses" in run.text and "sink" in run.text
    check_complete(stored_order(folder / "capture.db", pid), read_back(target, org_id))
    for shown in (run.text, listing.stdout, listing.stderr):
        assert PG_PASSWORD not in shown
