"""Channel discovery of the large org (500+ channels) end to end, against the emulator in
its own process: ``discover()`` beside a baseline measured in the same run, the same number
of sequential ``GET /services/data/`` with the same HTTP client (``OAuthHttp``). Medians of
alternating rounds, at Salesforce's page size (2,000, where this org needs no paging) and
at pages of 20 records (every query pages: what paging costs). Target: discovery under 2 s.

    python benchmarks/discovery.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from typing import Any

from sfmonitor.auth import OAuthHttp
from sfmonitor.discovery import discover
from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

TARGET = 2.0


class CountingHttp(OAuthHttp):
    """The client discovery uses, counting its REST calls."""

    calls = 0

    async def call_json(self, method: str, url: str, token: str, body: Any = None) -> Any:
        self.calls += 1
        return await super().call_json(method, url, token, body)


async def start_emulator(page_size: int) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sfmonitor.emulator", "--scenario", "large",
        "--rate", "0.01", "--page-size", str(page_size), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
    return proc, line.split("listening on ")[1].split()[0]


async def token_for(url: str) -> str:
    form = {
        "grant_type": "password",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
    }
    reply = await OAuthHttp().post_form(f"{url}/services/oauth2/token", form)
    return str(reply["access_token"])


async def measure(page_size: int, rounds: int) -> None:
    proc, url = await start_emulator(page_size)
    try:
        token = await token_for(url)
        found_times, base_times, calls, channels = [], [], 0, 0
        for i in range(rounds * 2):
            if i % 2 == 0:  # alternate: discovery, then its baseline
                http = CountingHttp(max_body=64 << 20)
                started = time.perf_counter()
                found = await discover(url, token, http=http)
                found_times.append(time.perf_counter() - started)
                calls, channels = http.calls, len(found.channels)
                assert all(s.ok for s in found.sources), [s.text for s in found.sources]
            else:
                http = OAuthHttp()
                started = time.perf_counter()
                for _ in range(calls):
                    await http.call_json("GET", f"{url}/services/data/", token)
                base_times.append(time.perf_counter() - started)
        found_s, base_s = statistics.median(found_times), statistics.median(base_times)
        verdict = "under" if found_s < TARGET else "OVER"
        print(
            f"page size {page_size:>5}: {channels} channels in {calls} requests; "
            f"discovery {found_s * 1000:.0f} ms (median of {rounds}), baseline {calls} "
            f"sequential GETs {base_s * 1000:.0f} ms, ratio {found_s / base_s:.2f}; "
            f"{verdict} the {TARGET:.0f} s target"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    for page_size in (2000, 20):
        await measure(page_size, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
