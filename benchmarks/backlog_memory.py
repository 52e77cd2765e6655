"""Memory of ``sfmonitor capture`` through a backlog: the emulator (its own process)
retains N events, the capture starts with ``--replay all`` and stores them, then idles.
Prints the capture process's RSS before the backlog, at its peak, once everything is
stored, and a few seconds later (where it settles).

    python benchmarks/backlog_memory.py [--events 1000000] [--payload 512] [--settle 5]
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.backlog import Backlog  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--payload", type=int, default=512)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up on timeout(1)
    with tempfile.TemporaryDirectory() as tmp:
        backlog = Backlog(Path(tmp) / "data")
        try:
            backlog.start_capture()
            time.sleep(1.0)
            base = peak = backlog.rss()  # connected and idle
            started = time.monotonic()
            backlog.flood(args.events, args.payload)
            while backlog.stored() < args.events:
                time.sleep(0.25)
                peak = max(peak, backlog.rss())
                if not backlog.alive() or time.monotonic() - started > args.timeout:
                    raise SystemExit(f"capture ended or timed out: {backlog.log[-2000:]}")
            seconds = time.monotonic() - started
            done = backlog.rss()
            time.sleep(args.settle)
            settled = backlog.rss()
        finally:
            backlog.stop()
    print(
        f"backlog: events={args.events} seconds={seconds:.1f} rss_idle_before={base:.0f}MB "
        f"peak={peak:.0f}MB when_stored={done:.0f}MB after_{args.settle:.0f}s={settled:.0f}MB "
        f"(settled/before {settled / base:.2f})"
    )


if __name__ == "__main__":
    main()
