"""Chaos soak: the emulator, the real client and the real store (the capture pipeline)
while events of every kind are published and a fault fires every few seconds, drawn from
every fault the emulator offers. At the end every published event must be stored once,
except those a recorded gap accounts for (purged by retention before they could be
delivered, on a channel whose stored replay id the server then refused).

    python benchmarks/soak.py [--events 100000] [--rate 2500] [--every 3] [--seed 1]

Prints one line: soak: published=N stored=N lost=0 duplicates=0 gaps=K faults=F seconds=S
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.soak import soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2500.0, help="events published per second")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between faults (mean)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sfmonitor-soak-") as tmp:
        result = asyncio.run(soak(args.events, args.rate, args.every, args.seed, Path(tmp) / "d"))
    print(result.line())
    print(
        f"faults fired: {dict(sorted(result.faults.items()))}; lost to retention and "
        f"accounted for by gaps: {result.accounted}"
    )
    sys.exit(0 if result.lost == 0 and result.duplicates == 0 else 1)


if __name__ == "__main__":
    main()
