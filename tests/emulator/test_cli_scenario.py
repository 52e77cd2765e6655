"""The emulator's command line, and the seeded demo scenario that serves demo, tests and
benchmarks alike."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import pytest

from sfmonitor.emulator import DEMO_CHANNELS, Emulator, Org, Scenario
from tests.helpers.probe import BayeuxProbe


def test_help_names_the_default_credentials() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sfmonitor.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    for text in (
        "demo@sfmonitor.example",
        "demo-password",
        "sfmonitor-demo-client-id",
        "sfmonitor-demo-client-secret",
        "sfmonitor-demo-refresh-token",
    ):
        assert text in out


@pytest.mark.asyncio
async def test_cli_prints_one_line_serves_and_stops_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sfmonitor.emulator",
        "--scenario",
        "demo",
        "--rate",
        "50",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line.startswith("sfmonitor-emulator listening on http://127.0.0.1:")
        url = line.split()[-1]
        async with BayeuxProbe(url) as p:
            await p.start("/event/Order_Placed__e")
            events = await p.events(1)
            assert events[0]["channel"] == "/event/Order_Placed__e"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        rest = (await proc.stdout.read()).decode()
        assert rest == ""  # exactly one line
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_scenario_is_seeded_and_fires_every_demo_channel() -> None:
    def run(seed: int) -> tuple[list[str], dict[str, int]]:
        org = Org()
        scenario = Scenario(org, seed=seed)
        steps = [scenario.step().split(" ", 1)[0] for _ in range(40)]
        return steps, {name: log.published for name, log in org.channels.items()}

    steps_a, counts_a = run(7)
    steps_b, counts_b = run(7)
    assert steps_a == steps_b and counts_a.keys() == counts_b.keys()
    org = Org()
    scenario = Scenario(org, seed=3)
    for _ in range(8):
        scenario.step()
    for channel in DEMO_CHANNELS:
        assert org.channels[channel].published > 0, channel


@pytest.mark.asyncio
async def test_scenario_runs_at_rate_on_a_live_emulator() -> None:
    async with Emulator() as emu, BayeuxProbe(emu.url) as p:
        emu.start_scenario(seed=1, rate=40)
        await p.start(*DEMO_CHANNELS, replay=-2)
        seen: set[str] = set()
        for _ in range(30):
            seen |= {m["channel"] for m in await p.connect() if m["channel"][:6] != "/meta/"}
            if seen >= set(DEMO_CHANNELS):
                break
        assert seen >= set(DEMO_CHANNELS)
