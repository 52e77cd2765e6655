"""What every headless command shares: exit codes, printing to a terminal safely, the
checked argument types, reading secrets, opening the store."""

from __future__ import annotations

import argparse
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
    Profile,
    Secrets,
    StoreLockedError,
)
from sfmonitor.store.errors import DataDirError, DataDirReadOnlyError, StoreDamagedError
from sfmonitor.store.validation import (
    CHANNEL_EXAMPLES,
    channel_name_problem,
    keep_days_problem,
    keep_events_problem,
    profile_name_problem,
    replay_policy_problem,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_KEYRING, EXIT_LOCKED = range(6)
EXIT_DATA_DIR = 6  # the data folder cannot be used (a file, not writable, ...)
EXIT_DAMAGED = 7  # capture.db is damaged or from a newer sfmonitor
EXIT_SINK = 8  # the capture was stopped while a sink had refused events for good


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


PROMPTS = {
    "refresh_token": "Refresh token: ",
    "password": "Password (with the security token appended, if your org needs it): ",
    "client_secret": "Client secret (consumer secret): ",
}


def read_secrets(auth: AuthKind, from_stdin: bool) -> Secrets:
    """The secrets ``auth`` keeps in the keyring, prompted or one per line on stdin (in
    that order: refresh token or password, then the client secret)."""
    values: dict[str, str] = {}
    for key in auth.keyring_secrets:
        if from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise UsageError(f"stdin ended before the {key.replace('_', ' ')}")
            values[key] = line.rstrip("\r\n")
        else:
            values[key] = getpass.getpass(PROMPTS[key])
        if not values[key]:
            raise UsageError(f"the {key.replace('_', ' ')} is empty")
    return Secrets(**values)


def profile_secrets(store: CaptureStore, profile: Profile, from_stdin: bool) -> Secrets:
    """The secrets ``profile`` logs in with: read from stdin, none for a kind that keeps
    none of ours (sf-cli, jwt), else the keyring's (a usage error when there are none)."""
    if from_stdin:
        return read_secrets(profile.auth_kind, True)
    if not profile.auth_kind.keyring_secrets:
        return Secrets()
    loaded = CredentialVault(scope=store.vault_scope).load(profile.name)
    if loaded is None:
        raise UsageError(
            f"no secrets for {profile.name!r} in the keyring; log in again: "
            f"sfmonitor profiles login {profile.name}"
        )
    return loaded


ORG_COMMANDS = ("channels", "limits", "publish")  # ask the org; only read the store
READ_ONLY_COMMANDS = ("list",)  # work on a folder in use or on a read-only file system
CHECK_WAIT = 10.0  # seconds a command waits for the damage check begun at open


def open_store(args: argparse.Namespace, folder: Path) -> CaptureStore:
    """The folder's store; read-only for a command that only reads when the folder is in
    use or cannot be written."""
    read_only_ok = (
        getattr(args, "profiles_command", None) in READ_ONLY_COMMANDS
        or (args.command == "sinks" and getattr(args, "sinks_command", None) in (None, "list"))
        or (args.command in ORG_COMMANDS and not getattr(args, "demo", False))
    )
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
