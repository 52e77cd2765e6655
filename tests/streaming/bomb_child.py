"""Run in a child process by test_hostile_process.py: log in to the server at argv[1] whose
token reply (``token``) or connect reply (``connect``) is a gzip bomb, and print the peak
RSS before and after, so that the parent sees this process's memory alone."""

from __future__ import annotations

import asyncio
import resource
import sys
import time

from sfmonitor.streaming import (
    ConnectionState,
    Notice,
    ResponseTooLargeError,
    SimpleSalesforceStreaming,
    StateChange,
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def main(url: str, where: str) -> None:
    refused = asyncio.Event()
    reasons: list[str] = []

    def notice(n: Notice) -> None:
        if isinstance(n, StateChange) and n.state is ConnectionState.RECONNECTING:
            reasons.append(n.reason)
            refused.set()

    client = SimpleSalesforceStreaming("u", "p", "c", "s", login_url=url, on_notice=notice)
    baseline = peak_mb()
    started = time.perf_counter()
    try:
        await client.start()
        await asyncio.wait_for(refused.wait(), 60)  # the first connect reply: the bomb
        outcome = reasons[0]
    except ResponseTooLargeError as exc:
        outcome = str(exc)
    finally:
        await client.stop()
    elapsed = time.perf_counter() - started
    print(f"outcome={outcome}")
    print(f"baseline_mb={baseline:.1f} peak_mb={peak_mb():.1f} seconds={elapsed:.2f}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
