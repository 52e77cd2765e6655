"""Headless commands: ``sfmonitor profiles ...``, ``capture ...``, ``sinks ...``,
``channels``, ``limits``, ``publish`` and ``doctor``, one module each; argument parsing
and printing only (the work is the store's, the capture's and discovery's). No Qt.

Exit codes a script can rely on:
  0 stopped normally (Ctrl-C / SIGTERM), 1 the capture failed while running (a store error,
  no channel accepted, an incomplete --ndjson copy; for channels, limits and publish: the
  org refused or did not answer), 2 bad usage (unknown profile, no
  channels, bad option), 3 credentials refused, 4 no usable keyring, 5 the data folder is
  in use by another sfmonitor, 6 the data folder cannot be used (a file, a parent that is
  a file, not writable for a command that writes), 7 capture.db is damaged (see
  ``sfmonitor doctor``) or was written by a newer sfmonitor, 8 the capture was stopped
  while a sink had refused events for good (a sink that is down is retried and is no
  exit; one that refuses events stops alone while receiving and the other sinks go on;
  its events stay in the store: fix it and start again).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sfmonitor.store import KeyringUnavailableError, SchemaTooNewError, StoreLockedError, data_dir
from sfmonitor.store.errors import DataDirError, StoreDamagedError

from . import capture, channels, doctor, limits, org, profiles, publish, sinks
from .common import (
    EXIT_DAMAGED,
    EXIT_DATA_DIR,
    EXIT_KEYRING,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    open_store,
    say,
)


def add_parsers(sub: Any) -> None:
    """Add the headless subcommands to the app's argument parser."""
    profiles.add_parser(sub)
    doctor.add_parser(sub)
    capture.add_parser(sub)
    sinks.add_parser(sub)
    channels.add_parser(sub)
    limits.add_parser(sub)
    publish.add_parser(sub)


ORG_COMMANDS = {
    "channels": channels.channels_command,
    "limits": limits.limits_command,
    "publish": publish.publish_command,
}


def run(args: argparse.Namespace) -> int:
    """Run a headless subcommand; returns the exit code."""
    folder = data_dir(args.data_dir)
    try:
        if args.command == "doctor":
            return doctor.doctor_command(args, folder)
        try:
            store = open_store(args, folder)
        except FileNotFoundError:  # read-only, and nothing captured there yet
            return EXIT_OK
        try:
            if args.command == "profiles":
                return profiles.profiles_command(args, store)
            if args.command == "sinks":
                return sinks.sinks_command(args, store)
            if args.command in ORG_COMMANDS:
                return asyncio.run(org.answered(ORG_COMMANDS[args.command], args, store))
            return asyncio.run(capture.capture_command(args, store))
        finally:
            store.close()
    except UsageError as exc:
        say(str(exc))
        return EXIT_USAGE
    except KeyringUnavailableError as exc:
        say(str(exc))
        return EXIT_KEYRING
    except StoreLockedError as exc:
        say(str(exc))
        return EXIT_LOCKED
    except DataDirError as exc:
        say(str(exc))
        return EXIT_DATA_DIR
    except (StoreDamagedError, SchemaTooNewError) as exc:
        say(str(exc))
        return EXIT_DAMAGED
    except KeyboardInterrupt:
        return EXIT_OK
