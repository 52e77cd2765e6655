"""Headless commands: ``sfmonitor profiles ...`` and ``sfmonitor capture ...``. No Qt.

Exit codes a script can rely on:
  0 stopped normally (Ctrl-C / SIGTERM), 1 the capture failed while running (store error),
  2 bad usage (unknown profile, no channels, bad option), 3 credentials refused,
  4 no usable keyring, 5 the data folder is in use by another sfmonitor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import re
import signal
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sfmonitor.store import (
    AuthKind,
    Capture,
    CaptureStore,
    CredentialVault,
    Environment,
    KeyringUnavailableError,
    Profile,
    Secrets,
    StoreLockedError,
    StoreWriteError,
    Subscription,
    data_dir,
)
from sfmonitor.store.export import event_record_bytes
from sfmonitor.store.ingest import IngestResult
from sfmonitor.store.models import PRODUCTION_URL, SANDBOX_URL
from sfmonitor.store.pipeline import CaptureError
from sfmonitor.store.validation import (
    channel_name_problem,
    keep_days_problem,
    keep_events_problem,
    profile_name_problem,
    replay_policy_problem,
)
from sfmonitor.streaming import (
    AuthenticationError,
    ChannelStatus,
    ConnectionState,
    GapNotice,
    Notice,
    StateChange,
    StreamEvent,
    StreamingError,
)
from sfmonitor.streaming.events import CHANNEL_EXAMPLES
from sfmonitor.streaming.state import Backoff

if TYPE_CHECKING:
    from sfmonitor.demo import Demo

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_KEYRING, EXIT_LOCKED = range(6)


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


def _notice_printer() -> Callable[[Notice], None]:
    def show(notice: Notice) -> None:
        if isinstance(notice, StateChange):
            if notice.state is ConnectionState.RECONNECTING:
                delay = f" in {notice.delay:.1f} s" if notice.delay else ""
                say(f"reconnecting{delay}: {notice.reason}")
            elif notice.state is ConnectionState.CONNECTED:
                say("connected")
            elif notice.state is ConnectionState.FAILED:
                say(f"connection failed: {notice.reason}")
        elif isinstance(notice, GapNotice):
            say(
                f"gap on {notice.channel}: replay id {notice.stored_replay_id} could not be "
                f"served ({notice.server_text}); action: {notice.action}"
            )
        elif notice.error:
            say(f"{notice.channel}: {notice.error}")
        elif notice.status is ChannelStatus.LIVE:
            say(f"subscribed to {notice.channel}")

    return show


class NdjsonEcho:
    """``--ndjson``: every event also written as one export record per line.

    The store is the record; this is a copy. Writing it never stops the capture: a
    reader that leaves a pipe (``| head``) stops the capture quietly, as before; a file
    that cannot be written (a full disk) is reported once, the echo stops, events keep
    being stored, and the command exits 1 in the end so that a script knows the file is
    short. A new file is readable by its owner only (it holds event data)."""

    def __init__(self, target: str, on_closed: Callable[[], None]) -> None:
        self.target = target
        self.on_closed = on_closed
        self.failed: str | None = None
        self.written = 0
        self._stopped = False
        if target == "-":
            self.out: IO[bytes] = sys.stdout.buffer
        else:
            fd = os.open(Path(target), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with contextlib.suppress(OSError):
                mode = os.fstat(fd)
                if stat.S_ISREG(mode.st_mode) and mode.st_uid == os.geteuid():
                    os.fchmod(fd, 0o600)  # an older file of ours: event data too
            self.out = os.fdopen(fd, "ab")

    def write(self, event: StreamEvent) -> None:
        if self._stopped:
            return
        try:
            self.out.write(event_record_bytes(event) + b"\n")
            self.written += 1
        except OSError as exc:
            self._failed(exc)

    def flush(self) -> None:
        if self._stopped:
            return
        try:
            self.out.flush()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self._stopped = True
        if isinstance(exc, BrokenPipeError) and self.out is sys.stdout.buffer:
            # the reader left: send the rest nowhere, quietly, and stop
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            self.on_closed()
            return
        where = "standard output" if self.out is sys.stdout.buffer else self.target
        self.failed = f"cannot write to {where} ({exc.strerror or exc})"
        say(
            f"{self.failed}: the NDJSON copy stops here (about {self.written} events "
            "written); capturing goes on and every event is still stored"
        )

    def close(self) -> None:
        self.flush()
        if self.out is not sys.stdout.buffer:
            with contextlib.suppress(OSError):
                self.out.close()


async def _what_to_capture(
    args: argparse.Namespace, store: CaptureStore
) -> tuple[Profile, Secrets, list[Subscription], Demo | None]:
    """The profile, its secrets and channels of ``capture`` (the demo's with --demo)."""
    demo = None
    if args.demo:
        from sfmonitor.demo import start_demo

        demo = await start_demo(store)
        profile, secrets = demo.profile, demo.secrets
    else:
        if not args.profile:
            raise UsageError("--profile NAME is needed (or --demo)")
        found = store.profile(args.profile)
        if found is None:
            raise UsageError(f"no profile named {args.profile!r} (see: sfmonitor profiles list)")
        profile = found
        if profile.read_only:
            raise UsageError(f"{profile.name!r} is an imported capture; it cannot connect")
        if args.secrets_stdin:
            secrets = read_secrets(profile.auth_kind, True)
        else:
            loaded = CredentialVault(scope=store.vault_scope).load(profile.name)
            if loaded is None:
                raise UsageError(f"no secrets for {profile.name!r} in the keyring; add it again")
            secrets = loaded
    assert profile.id is not None
    for channel in args.channel:
        check_channel(channel)
        if channel not in {s.channel for s in store.subscriptions(profile.id)}:
            store.set_subscription(profile.id, Subscription(channel))
    subs = store.subscriptions(profile.id)
    if args.channel:
        subs = [s for s in subs if s.channel in args.channel]
    if not any(s.enabled for s in subs):
        if demo is not None:
            await demo.emulator.stop()
        raise UsageError(f"no channels to capture for {profile.name!r}: pass --channel")
    return profile, secrets, subs, demo


def _on_written(echo: NdjsonEcho | None) -> Callable[[IngestResult], None]:
    def written(result: IngestResult) -> None:
        for notice in result.notices:
            say(notice.server_text)
        if echo is not None:
            echo.flush()

    return written


async def capture_command(args: argparse.Namespace, store: CaptureStore) -> int:
    profile, secrets, subs, demo = await _what_to_capture(args, store)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    capture: Capture | None = None
    stop_tasks: set[asyncio.Task[None]] = set()

    def request_stop() -> None:
        stopping.set()
        if capture is not None:
            task = loop.create_task(capture.stop())
            stop_tasks.add(task)
            task.add_done_callback(stop_tasks.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(sig, request_stop)
    backoff = Backoff(base=1.0, cap=60.0)
    total_stored = 0
    echo = None
    try:
        echo = NdjsonEcho(args.ndjson, request_stop) if args.ndjson else None
        while not stopping.is_set():
            capture = Capture(
                store,
                profile,
                secrets,
                subs,
                replay=args.replay,
                on_event=echo.write if echo is not None else None,
                on_notice=_notice_printer(),
                on_written=_on_written(echo),
                on_warning=say,
                require_channel=True,
            )
            say(
                f"capturing {len(subs)} channel(s) of {profile.name!r} into {store.path} "
                "(Ctrl-C to stop)"
            )
            try:
                await capture.run()
                break
            except AuthenticationError as exc:
                say(f"login refused: {exc}")
                return EXIT_AUTH
            except StreamingError as exc:
                if stopping.is_set():
                    break
                delay = backoff.next()
                say(f"cannot connect ({exc}); retrying in {delay:.1f} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), delay)
            finally:
                total_stored += capture.stats.stored
            args.replay = "stored"  # an explicit replay applies to the first connection only
    except (StoreWriteError, CaptureError) as exc:
        say(str(exc))
        return EXIT_FAILED
    finally:
        if echo is not None:
            echo.close()
        if demo is not None:
            await demo.emulator.stop()
    say(f"stopped: {total_stored} new event(s) stored in {store.path}")
    if echo is not None and echo.failed:
        say(f"the NDJSON copy is incomplete: {echo.failed}")
        return EXIT_FAILED
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run a headless subcommand; returns the exit code."""
    folder = data_dir(args.data_dir)
    try:
        store = CaptureStore.open(folder)
    except StoreLockedError as exc:
        if getattr(args, "profiles_command", None) != "list":
            say(str(exc))
            return EXIT_LOCKED
        say(f"{exc.folder} is in use by another sfmonitor ({exc.holder}); reading it read-only")
        store = CaptureStore.open(folder, read_only=True)
    try:
        if args.command == "profiles":
            return profiles_command(args, store)
        return asyncio.run(capture_command(args, store))
    except UsageError as exc:
        say(str(exc))
        return EXIT_USAGE
    except KeyringUnavailableError as exc:
        say(str(exc))
        return EXIT_KEYRING
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        store.close()
