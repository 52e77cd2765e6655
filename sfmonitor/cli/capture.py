"""``sfmonitor capture``: a profile's channels into the store until Ctrl-C / SIGTERM,
optionally echoed as NDJSON and forwarded to sinks (the profile's saved ones and
``--sink``), with what the server, the store and the sinks say printed on stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sfmonitor.capture import Capture, CaptureError, Forwarding, StoreWriteError
from sfmonitor.store import CaptureStore, CredentialVault, Profile, Secrets, Subscription
from sfmonitor.store.errors import StoreDamagedError
from sfmonitor.store.export import record_bytes
from sfmonitor.store.ingest import IngestResult
from sfmonitor.store.models import PUBSUB, TRANSPORTS
from sfmonitor.store.records import EventRecord
from sfmonitor.streaming import (
    AuthenticationError,
    ChannelStatus,
    ConnectionState,
    GapNotice,
    Notice,
    StateChange,
)

from .common import (
    EXIT_AUTH,
    EXIT_DAMAGED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SINK,
    UsageError,
    check_channel,
    profile_secrets,
    replay_arg,
    say,
)
from .sinks import capture_plans, say_change, sink_arg, status_lines

if TYPE_CHECKING:
    from sfmonitor.capture.demo import Demo


def add_parser(sub: Any) -> None:
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
    cap.add_argument(
        "--transport",
        choices=TRANSPORTS,
        help="the API for every channel this run (default: each channel's own setting); "
        "pubsub applies to platform events and Change Data Capture, the others stay on cometd",
    )
    cap.add_argument(
        "--sink",
        action="append",
        default=[],
        type=sink_arg,
        metavar="URL",
        help="also forward to this sink, besides the profile's saved ones (repeatable): "
        "kafka://HOST:PORT/TOPIC, postgresql://USER@HOST:PORT/DB?table=NAME, ndjson:///PATH",
    )
    cap.add_argument(
        "--status-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="with sinks: print each sink's state and lag this often (0: never; default 60)",
    )
    cap.add_argument("--demo", action="store_true", help="capture from the built-in emulator")
    cap.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="read the secrets from stdin (kept in memory only) instead of the keyring",
    )


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

    def write(self, record: EventRecord) -> None:
        if self._stopped:
            return
        try:
            self.out.write(record_bytes(record) + b"\n")
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
        from sfmonitor.capture.demo import start_demo

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
        secrets = profile_secrets(store, profile, args.secrets_stdin)
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


def _capture(
    store: CaptureStore,
    profile: Profile,
    secrets: Secrets,
    subs: list[Subscription],
    args: argparse.Namespace,
    echo: NdjsonEcho | None,
    forwarding: Forwarding | None,
) -> Capture:
    """One run's capture, saying what it does on stderr (who and where it logged in too)."""
    say(f"capturing {len(subs)} channel(s) of {profile.name!r} into {store.path} (Ctrl-C to stop)")
    for plan in forwarding.plans if forwarding is not None else []:
        say(f"forwarding to {plan.spec.url}" + ("" if plan.saved else " (given with --sink)"))
    keyring = not (args.secrets_stdin or args.demo)  # a rotated refresh token goes back there
    capture = Capture(
        store,
        profile,
        secrets,
        subs,
        replay=args.replay,
        transport=args.transport,
        on_record=echo.write if echo is not None else None,
        on_notice=_notice_printer(),
        on_written=_on_written(echo),
        on_warning=say,
        require_channel=True,  # a capture of nothing ends (exit 1) instead of idling
        vault=CredentialVault(scope=store.vault_scope) if keyring else None,
        on_identity=lambda p: say(f"logged in as {p.org.line()}"),
        forwarding=forwarding,
    )
    _say_transports(capture, args.transport)
    return capture


def _say_transports(capture: Capture, forced: str | None) -> None:
    """Which channels go over Pub/Sub, and those a ``--transport pubsub`` leaves on CometD."""
    over = sorted(c for c, t in capture.transports.items() if t == PUBSUB)
    if over:
        say(f"over the Pub/Sub API: {', '.join(over)}")
    if forced == PUBSUB:
        kept = sorted(c for c, t in capture.transports.items() if t != PUBSUB)
        if kept:
            say(f"on CometD (not on the Pub/Sub API): {', '.join(kept)}")


def _forwarding(
    args: argparse.Namespace, store: CaptureStore, profile: Profile
) -> Forwarding | None:
    """The sinks of this run, or None without any."""
    vault = None if args.secrets_stdin else CredentialVault(scope=store.vault_scope)
    plans = capture_plans(args, store, profile, vault)
    if not plans:
        return None
    assert profile.id is not None
    return Forwarding(store.path, profile.id, plans, on_change=say_change)


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
    echo = None
    forwarding: Forwarding | None = None
    status: asyncio.Future[None] | None = None
    try:
        forwarding = _forwarding(args, store, profile)
        echo = NdjsonEcho(args.ndjson, request_stop) if args.ndjson else None
        capture = running = _capture(store, profile, secrets, subs, args, echo, forwarding)
        if forwarding is not None and args.status_every > 0:
            status = asyncio.ensure_future(
                status_lines(forwarding, args.status_every, lambda: running.retention_held)
            )
        if not stopping.is_set():
            await capture.run()  # an org out of reach is tried again inside, with backoff
    except AuthenticationError as exc:
        say(f"login refused: {exc}")
        return EXIT_AUTH
    except (StoreWriteError, CaptureError) as exc:
        say(str(exc))
        return EXIT_DAMAGED if isinstance(exc.__cause__, StoreDamagedError) else EXIT_FAILED
    finally:
        if status is not None:
            status.cancel()
        if echo is not None:
            echo.close()
        if demo is not None:
            await demo.emulator.stop()
    total_stored = capture.stats.stored if capture is not None else 0
    say(f"stopped: {total_stored} new event(s) stored in {store.path}")
    if forwarding is not None:
        await forwarding.recount()
        for lag in forwarding.lags():
            say(f"sink {lag.sink}: {lag.describe()}")
    if echo is not None and echo.failed:
        say(f"the NDJSON copy is incomplete: {echo.failed}")
        return EXIT_FAILED
    if forwarding is not None and forwarding.failed():
        return EXIT_SINK
    return EXIT_OK
