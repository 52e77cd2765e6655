"""Command-line entry point and composition root of sfmonitor.

``sfmonitor`` opens the window; ``sfmonitor --demo`` opens it on the built-in emulator.
``sfmonitor profiles ...`` and ``sfmonitor capture ...`` run headless (no Qt is imported).
Here the pieces meet: the window gets the demo starter (the emulator is imported only
when the demo is asked for), the headless commands their own.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfmonitor", description="Monitor for Salesforce event streams."
    )
    parser.add_argument(
        "--data-dir",
        help="folder of the capture database (default: $SFMONITOR_DATA_DIR or the user data dir)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in emulator with demo traffic"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="detail of the log file (DATA_DIR/logs/sfmonitor.log; secrets are masked)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the demo, check that events reach the table, exit 0 (or 1)",
    )
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the window")
    parser.add_argument(
        "--screenshot-after",
        metavar="SECONDS",
        type=float,
        default=2.0,
        help="how long after start-up --screenshot is taken (default 2; not with --self-test)",
    )
    parser.add_argument(
        "--theme",
        choices=("light", "dark", "system"),
        help="colour scheme for this run (default: as chosen in View > Theme, else the system's)",
    )
    parser.add_argument(
        "--quit-after-paint",
        action="store_true",
        help="print 'first paint' once the window is painted, then quit (startup timing)",
    )
    from sfmonitor.cli import add_parsers

    sub = parser.add_subparsers(dest="command")
    add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from sfmonitor.logs import setup_logging
    from sfmonitor.store.errors import DataDirError
    from sfmonitor.store.paths import data_dir, ensure_private_dir

    try:
        folder = ensure_private_dir(data_dir(args.data_dir))
    except DataDirError as exc:  # one line and exit 6 (see sfmonitor.cli), no traceback
        print(f"sfmonitor: {exc}", file=sys.stderr)
        return 6
    setup_logging(folder, args.log_level)
    if args.command is not None:
        from sfmonitor.cli import run

        return run(args)
    from sfmonitor.ui.launch import run as run_window

    return run_window(args, start_demo)


async def start_demo(store: Any) -> Any:
    """The demo (the emulator with traffic, and its profile), started when asked for."""
    from sfmonitor.capture.demo import start_demo as start

    return await start(store)


if __name__ == "__main__":
    sys.exit(main())
