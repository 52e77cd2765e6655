"""A forwarder in a process of its own, for the tests that SIGKILL it.

    python -m tests.sinks.forward_proc FOLDER PROFILE_ID ORG_ID URL [--stall-at N]

A password for the sink is read from the first line of stdin (as the keyring would give it).
Prints ``ACKED <cursor>`` each time the cursor moves and exits 0 once nothing is behind.
With ``--stall-at N`` the N-th batch is cut in two: the first half goes to the sink for
real, then the process prints ``STALLED`` and waits forever, its cursor still before that
batch: the test kills it there, in the middle of a batch.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sfmonitor.sinks import Lag, OutboxRecord, Sink
from tests.sinks.helpers import forwarder_for


class Stalling:
    """Wraps a sink: at the N-th batch, writes half of it and never returns."""

    def __init__(self, sink: Sink, stall_at: int) -> None:
        self.sink = sink
        self.name = sink.name
        self.stall_at = stall_at
        self.batches = 0

    async def open(self) -> None:
        await self.sink.open()

    async def write(self, batch: Sequence[OutboxRecord]) -> None:
        self.batches += 1
        if self.batches == self.stall_at:
            await self.sink.write(batch[: len(batch) // 2])
            print("STALLED", flush=True)
            await asyncio.Event().wait()
        await self.sink.write(batch)

    async def close(self) -> None:
        await self.sink.close()


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("profile_id", type=int)
    parser.add_argument("org_id")
    parser.add_argument("url")
    parser.add_argument("--stall-at", type=int, default=0)
    args = parser.parse_args()
    secret = sys.stdin.readline().rstrip("\n")
    url = args.url
    if secret:  # the keyring's password, put back where the sink expects it
        scheme, _, rest = url.partition("://")
        user, _, host = rest.partition("@")
        url = f"{scheme}://{user}:{secret}@{host}"
    last = -1

    def on_lag(lag: Lag) -> None:
        nonlocal last
        if lag.cursor != last:
            last = lag.cursor
            print(f"ACKED {lag.cursor}", flush=True)

    forwarder = forwarder_for(args.folder, args.profile_id, url, args.org_id, on_lag=on_lag)
    if args.stall_at:
        forwarder.sink = Stalling(forwarder.sink, args.stall_at)
    task = asyncio.ensure_future(forwarder.run())
    while not task.done():
        lag = forwarder.lag
        if lag.forwarded and lag.events == 0 and lag.state == "forwarding":
            break
        await asyncio.sleep(0.05)
    forwarder.stop()
    await task
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    sys.exit(asyncio.run(main()))
