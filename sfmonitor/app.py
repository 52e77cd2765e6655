"""Command-line entry point of sfmonitor.

Until the desktop window exists, ``sfmonitor --demo`` serves the emulator with its demo
scenario (the same as ``python -m sfmonitor.emulator --scenario demo``).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sfmonitor", description=__doc__)
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in emulator with demo traffic"
    )
    args, rest = parser.parse_known_args(argv)
    if args.demo:
        from sfmonitor.emulator.__main__ import main as emulator_main

        return emulator_main(["--scenario", "demo", *rest])
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
