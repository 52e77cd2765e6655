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
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

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
from sfmonitor.store.models import PRODUCTION_URL, SANDBOX_URL
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
from sfmonitor.streaming.events import CHANNEL_EXAMPLES, channel_problem
from sfmonitor.streaming.state import Backoff

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_KEYRING, EXIT_LOCKED = range(6)


class UsageError(Exception):
    """Wrong arguments: reported with exit code 2."""


def say(text: str) -> None:
    print(f"sfmonitor: {text}", file=sys.stderr, flush=True)


def check_channel(name: str) -> str:
    """A channel name as Salesforce expects it (the prefix says its kind)."""
    problem = channel_problem(name)
    if problem is not None:
        raise UsageError(
            f"{name!r} is not a channel: {problem} (e.g. {', '.join(CHANNEL_EXAMPLES[:4])})"
        )
    return name


def add_parsers(sub: Any) -> None:
    """Add the headless subcommands to the app's argument parser."""
    profiles = sub.add_parser("profiles", help="manage connection profiles")
    psub = profiles.add_subparsers(dest="profiles_command", required=True)
    add = psub.add_parser("add", help="add or update a profile; secrets go to the keyring")
    add.add_argument("name")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--production", action="store_true", help="login.salesforce.com")
    where.add_argument("--sandbox", action="store_true", help="test.salesforce.com")
    where.add_argument("--login-url", help="My Domain or another login URL")
    add.add_argument("--auth", choices=("password", "refresh-token"), default="password")
    add.add_argument("--username", default="")
    add.add_argument("--client-id", required=True, help="the connected app's consumer key")
    add.add_argument("--api-version", default="", help="pin an API version (default: newest)")
    add.add_argument("--channel", action="append", default=[], help="subscribe to (repeatable)")
    add.add_argument("--keep-events", type=int, help="retention: keep the newest N events")
    add.add_argument("--keep-days", type=float, help="retention: keep N days of events")
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
    vault = CredentialVault()
    if args.profiles_command == "list":
        for p in store.profiles():
            n_channels = len(store.subscriptions(p.id)) if p.id is not None else 0
            counts = store.channel_counts(p.id) if p.id is not None else {}
            print(
                f"{p.name}\t{p.environment.value}\t{p.login_url or p.source}\t"
                f"{p.auth_kind.value}\t{p.username}\t{n_channels} channels\t"
                f"{sum(counts.values())} events"
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
    # add
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
    vault.check()
    secrets = read_secrets(auth, args.secrets_stdin)
    existing = store.profile(args.name)
    profile = store.save_profile(
        Profile(
            args.name,
            env,
            url,
            auth,
            args.username,
            args.client_id,
            args.api_version,
            keep_events=args.keep_events,
            keep_days=args.keep_days,
            id=existing.id if existing else None,
        )
    )
    vault.save(profile.name, secrets)
    assert profile.id is not None
    for channel in channels:
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


def _event_writer(
    target: str | None, on_closed: Callable[[], None]
) -> tuple[Callable[[StreamEvent], None] | None, IO[bytes] | None]:
    """Echo of events as NDJSON; a closed pipe (``| head``) stops the capture quietly."""
    if target is None:
        return None, None
    out: IO[bytes] = sys.stdout.buffer if target == "-" else open(Path(target), "ab")  # noqa: SIM115
    closed = False

    def write(event: StreamEvent) -> None:
        nonlocal closed
        if closed:
            return
        try:
            out.write(event_record_bytes(event) + b"\n")
        except BrokenPipeError:
            closed = True
            if out is sys.stdout.buffer:  # the reader left: send the rest nowhere, quietly
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            on_closed()

    return write, out


def _flush(out: IO[bytes]) -> None:
    with contextlib.suppress(BrokenPipeError):
        out.flush()


async def capture_command(args: argparse.Namespace, store: CaptureStore) -> int:
    demo = None
    if args.replay not in ("stored", "new", "all") and not args.replay.lstrip("-").isdigit():
        raise UsageError("--replay must be stored, new, all or a replay id")
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
            loaded = CredentialVault().load(profile.name)
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
        raise UsageError(f"no channels to capture for {profile.name!r}: pass --channel")
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

    on_event, out = _event_writer(args.ndjson, request_stop)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(sig, request_stop)
    backoff = Backoff(base=1.0, cap=60.0)
    total_stored = 0
    try:
        while not stopping.is_set():
            capture = Capture(
                store,
                profile,
                secrets,
                subs,
                replay=args.replay,
                on_event=on_event,
                on_notice=_notice_printer(),
                on_written=(lambda _r: _flush(out)) if out is not None else None,
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
    except StoreWriteError as exc:
        say(str(exc))
        return EXIT_FAILED
    finally:
        if out is not None and out is not sys.stdout.buffer:
            out.close()
        elif out is not None:
            _flush(out)
        if demo is not None:
            await demo.emulator.stop()
    say(f"stopped: {total_stored} new event(s) stored in {store.path}")
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
