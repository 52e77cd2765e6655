"""Headless commands: ``sfmonitor profiles ...``, ``capture ...`` (in ``cli_capture``) and
``doctor``. No Qt.

Exit codes a script can rely on:
  0 stopped normally (Ctrl-C / SIGTERM), 1 the capture failed while running (a store error,
  no channel accepted, an incomplete --ndjson copy), 2 bad usage (unknown profile, no
  channels, bad option), 3 credentials refused, 4 no usable keyring, 5 the data folder is
  in use by another sfmonitor, 6 the data folder cannot be used (a file, a parent that is
  a file, not writable for a command that writes), 7 capture.db is damaged (see
  ``sfmonitor doctor``) or was written by a newer sfmonitor.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sfmonitor.store import (
    AuthKind,
    CaptureStore,
    CredentialVault,
    Environment,
    KeyringUnavailableError,
    Profile,
    SchemaTooNewError,
    Secrets,
    StoreLockedError,
    Subscription,
    data_dir,
    doctor,
)
from sfmonitor.store.health import StoreDamagedError
from sfmonitor.store.models import PRODUCTION_URL, SANDBOX_URL
from sfmonitor.store.paths import DataDirError, DataDirReadOnlyError
from sfmonitor.store.validation import (
    channel_name_problem,
    keep_days_problem,
    keep_events_problem,
    profile_name_problem,
    replay_policy_problem,
)
from sfmonitor.streaming.events import CHANNEL_EXAMPLES

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_KEYRING, EXIT_LOCKED = range(6)
EXIT_DATA_DIR = 6  # the data folder cannot be used (a file, not writable, ...)
EXIT_DAMAGED = 7  # capture.db is damaged or from a newer sfmonitor


class UsageError(Exception):
    """Wrong arguments: reported with exit code 2."""


def printable(text: str) -> str:
    """Text safe for a terminal: control and format characters (an escape sequence that
    would move the cursor or rewrite the screen, a bidi override) shown as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def say(text: str) -> None:
    print(f"sfmonitor: {printable(text)}", file=sys.stderr, flush=True)


def check_channel(name: str) -> str:
    """A channel name as Salesforce expects it (the prefix says its kind)."""
    problem = channel_name_problem(name)
    if problem is not None:
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise UsageError(
            f"{shown!r} is not a channel: {problem} (e.g. {', '.join(CHANNEL_EXAMPLES[:4])})"
        )
    return name


def _checked(problem_of: Callable[[Any], str | None], convert: Callable[[str], Any]) -> Any:
    """An argparse ``type``: convert, then check; a refusal is a usage error (exit 2)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            value = text
        problem = problem_of(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


def _whole(text: str) -> int | str:
    return int(text) if re.fullmatch(r"[0-9]{1,19}", text.strip()) else text


def _unless_none(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: NO_LIMIT if text.strip().lower() == "none" else convert(text)


NO_LIMIT = "none"  # --keep-events none: remove the limit
keep_events_arg = _checked(
    lambda v: None if v == NO_LIMIT else keep_events_problem(v), _unless_none(_whole)
)
keep_days_arg = _checked(
    lambda v: None if v == NO_LIMIT else keep_days_problem(v), _unless_none(float)
)


def _replay_problem(value: str) -> str | None:
    if value == "stored" or replay_policy_problem(value) is None:
        return None
    shown = value if len(value) <= 40 else value[:40] + "…"
    return f"must be stored, new, all or a replay id from 0 to 2^63-1, not {shown!r}"


replay_arg = _checked(_replay_problem, lambda t: t.strip())
profile_name_arg = _checked(profile_name_problem, str)


def add_parsers(sub: Any) -> None:
    """Add the headless subcommands to the app's argument parser."""
    profiles = sub.add_parser("profiles", help="manage connection profiles")
    psub = profiles.add_subparsers(dest="profiles_command", required=True)
    add = psub.add_parser("add", help="add or update a profile; secrets go to the keyring")
    add.add_argument("name", type=profile_name_arg)
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--production", action="store_true", help="login.salesforce.com")
    where.add_argument("--sandbox", action="store_true", help="test.salesforce.com")
    where.add_argument("--login-url", help="My Domain or another login URL")
    add.add_argument("--auth", choices=("password", "refresh-token"), default="password")
    add.add_argument("--username", default="")
    add.add_argument("--client-id", required=True, help="the connected app's consumer key")
    add.add_argument("--api-version", default="", help="pin an API version (default: newest)")
    add.add_argument("--channel", action="append", default=[], help="subscribe to (repeatable)")
    add.add_argument(
        "--keep-events",
        type=keep_events_arg,
        help="retention: keep the newest N events (none: no limit; default: unchanged)",
    )
    add.add_argument(
        "--keep-days",
        type=keep_days_arg,
        help="retention: keep N days of events (none: no limit; default: unchanged)",
    )
    add.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="read the secrets from stdin, one per line, instead of prompting",
    )
    psub.add_parser("list", help="list profiles")
    remove = psub.add_parser("remove", help="remove a profile, its secrets and its captures")
    remove.add_argument("name")

    doc = sub.add_parser("doctor", help="check the capture file for damage (exit 7 if damaged)")
    doc.add_argument(
        "--recover",
        action="store_true",
        help="save what is readable into a new capture file; the damaged one is kept",
    )

    cap = sub.add_parser("capture", help="capture events into the store until stopped")
    cap.add_argument("--profile", help="profile name (not needed with --demo)")
    cap.add_argument("--channel", action="append", default=[], help="channel (repeatable)")
    cap.add_argument(
        "--replay",
        default="stored",
        type=replay_arg,
        help="stored (resume; default), new, all (last 24-72 h), or a replay id",
    )
    cap.add_argument(
        "--ndjson", metavar="FILE", help="also write each event as NDJSON (- = stdout)"
    )
    cap.add_argument("--demo", action="store_true", help="capture from the built-in emulator")
    cap.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="read the secrets from stdin (kept in memory only) instead of the keyring",
    )


def read_secrets(auth: AuthKind, from_stdin: bool) -> Secrets:
    prompts = (
        [("refresh_token", "Refresh token: ")]
        if auth is AuthKind.REFRESH_TOKEN
        else [("password", "Password (with the security token appended, if your org needs it): ")]
    )
    prompts.append(("client_secret", "Client secret (consumer secret): "))
    values: dict[str, str] = {}
    for key, prompt in prompts:
        if from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise UsageError(f"stdin ended before the {key.replace('_', ' ')}")
            values[key] = line.rstrip("\r\n")
        else:
            values[key] = getpass.getpass(prompt)
        if not values[key]:
            raise UsageError(f"the {key.replace('_', ' ')} is empty")
    return Secrets(**values)


def profiles_command(args: argparse.Namespace, store: CaptureStore) -> int:
    vault = CredentialVault(scope=store.vault_scope)
    if args.profiles_command == "list":
        for p in store.profiles():
            n_channels = len(store.subscriptions(p.id)) if p.id is not None else 0
            counts = store.channel_counts(p.id) if p.id is not None else {}
            fields = (p.name, p.environment.value, p.login_url or p.source, p.auth_kind.value)
            print(
                "\t".join(printable(f) for f in (*fields, p.username))
                + f"\t{n_channels} channels\t{sum(counts.values())} events"
            )
        return EXIT_OK
    if args.profiles_command == "remove":
        profile = store.profile(args.name)
        if profile is None or profile.id is None:
            raise UsageError(f"no profile named {args.name!r}")
        vault.delete(profile.name)
        store.delete_profile(profile.id)
        say(f"removed profile {profile.name!r}")
        return EXIT_OK
    return add_profile(args, store, vault)


def add_profile(args: argparse.Namespace, store: CaptureStore, vault: CredentialVault) -> int:
    """``profiles add``: a new profile, or new settings for one (what is not given is
    kept: its retention, its channels)."""
    if args.production:
        env, url = Environment.PRODUCTION, PRODUCTION_URL
    elif args.sandbox:
        env, url = Environment.SANDBOX, SANDBOX_URL
    else:
        url = args.login_url.rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise UsageError(f"--login-url must start with https:// (got {args.login_url!r})")
        env = Environment.CUSTOM
    auth = AuthKind.REFRESH_TOKEN if args.auth == "refresh-token" else AuthKind.PASSWORD
    if auth is AuthKind.PASSWORD and not args.username:
        raise UsageError("--username is needed for password authentication")
    channels = [check_channel(c) for c in args.channel]
    existing = store.profile(args.name)
    if existing is not None and existing.read_only:
        raise UsageError(f"{args.name!r} is an imported capture, not a profile to connect with")
    keep_events = existing.keep_events if existing else None
    keep_days = existing.keep_days if existing else None
    if args.keep_events is not None:
        keep_events = None if args.keep_events == NO_LIMIT else args.keep_events
    if args.keep_days is not None:
        keep_days = None if args.keep_days == NO_LIMIT else args.keep_days
    profile = Profile(
        args.name,
        env,
        url,
        auth,
        args.username,
        args.client_id,
        args.api_version,
        keep_events=keep_events,
        keep_days=keep_days,
        id=existing.id if existing else None,
    )
    vault.check()
    secrets = read_secrets(auth, args.secrets_stdin)
    vault.save(profile.name, secrets)  # read back: a keyring that keeps nothing fails here
    try:
        profile = store.save_profile(profile)
    except BaseException:
        if existing is None:
            vault.delete(profile.name)
        raise
    assert profile.id is not None
    known = {s.channel for s in store.subscriptions(profile.id)}
    for channel in channels:
        if channel not in known:
            store.set_subscription(profile.id, Subscription(channel))
    say(f"saved profile {profile.name!r} ({env.value}, {url}); its secrets are in the keyring")
    return EXIT_OK


READ_ONLY_COMMANDS = ("list",)  # work on a folder in use or on a read-only file system
CHECK_WAIT = 10.0  # seconds a command waits for the damage check begun at open


def open_store(args: argparse.Namespace, folder: Path) -> CaptureStore:
    """The folder's store; read-only for a command that only reads when the folder is in
    use or cannot be written."""
    read_only_ok = getattr(args, "profiles_command", None) in READ_ONLY_COMMANDS
    try:
        store = CaptureStore.open(folder)
    except StoreLockedError as exc:
        if not read_only_ok:
            raise
        say(f"{exc.folder} is in use by another sfmonitor ({exc.holder}); reading it read-only")
        store = CaptureStore.open(folder, read_only=True)
    except DataDirReadOnlyError as exc:
        if not read_only_ok:
            raise DataDirError(f"{exc}; only 'profiles list' works there") from None
        store = CaptureStore.open(folder, read_only=True)
    damage = store.wait_checked(CHECK_WAIT)
    if damage is not None:
        store.close()
        raise StoreDamagedError(store.path, damage)
    return store


def run(args: argparse.Namespace) -> int:
    """Run a headless subcommand; returns the exit code."""
    folder = data_dir(args.data_dir)
    try:
        if args.command == "doctor":
            return doctor_command(args, folder)
        try:
            store = open_store(args, folder)
        except FileNotFoundError:  # read-only, and nothing captured there yet
            return EXIT_OK
        try:
            if args.command == "profiles":
                return profiles_command(args, store)
            from sfmonitor.cli_capture import capture_command

            return asyncio.run(capture_command(args, store))
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
