"""``sfmonitor doctor [--recover]``: is the capture file damaged, and saving what is
readable when it is."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sfmonitor.store import doctor
from sfmonitor.store.errors import DataDirError

from .common import EXIT_DAMAGED, EXIT_OK, say


def add_parser(sub: Any) -> None:
    doc = sub.add_parser("doctor", help="check the capture file for damage (exit 7 if damaged)")
    doc.add_argument(
        "--recover",
        action="store_true",
        help="save what is readable into a new capture file; the damaged one is kept",
    )


def doctor_command(args: argparse.Namespace, folder: Path) -> int:
    """``sfmonitor doctor [--recover]``: check the capture file (exit 0 sound, 7 damaged);
    with --recover, save what is readable into a new file (the damaged one is kept)."""
    try:
        result = doctor.check(folder)
    except FileNotFoundError as exc:
        raise DataDirError(str(exc)) from None
    if result.ok and not args.recover:
        say(f"{result.path}: no damage found ({result.events:,} events, schema v{result.schema})")
        return EXIT_OK
    if not args.recover:
        for problem in result.problems[:10]:
            say(f"{result.path}: {problem}")
        say("damaged: 'sfmonitor doctor --recover' saves what is readable into a new file")
        return EXIT_DAMAGED
    try:
        recovery = doctor.recover(folder, progress=lambda text: say(f"recovering: {text}"))
    except OSError as exc:  # e.g. a read-only file system: nothing was changed
        raise DataDirError(f"cannot recover in {folder} ({exc.strerror or exc})") from None
    events = recovery.rows.get("events", 0)
    say(
        f"recovered {events:,} events and {recovery.rows.get('profiles', 0)} profile(s) into "
        f"{result.path}; the old file is kept as {recovery.kept_as}"
    )
    for table, after, upto in recovery.unreadable:
        say(f"unreadable: {table} rows after id {after} (skipped up to {upto})")
    if recovery.lost:
        say("each channel resumes from before the first loss: what the server retains comes again")
    return EXIT_OK
