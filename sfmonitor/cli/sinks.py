"""``sfmonitor sinks [list|add|remove] --profile NAME``: the sinks saved on a profile, and
where each sink is (cursor, events behind); and the sinks of ``capture`` (``--sink``, the
status line).

A sink's password never reaches the store or the screen: one given in a URL is split off
into the keyring (``add``), or kept in memory for one run (``capture --sink``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
import time
from collections.abc import Callable
from typing import Any

from sfmonitor.capture import Forwarding, SinkPlan, merge_plans, run_sink_plans, saved_sink_plans
from sfmonitor.logs import register_secret
from sfmonitor.sinks import (
    KafkaSpec,
    Lag,
    SinkState,
    SinkUrlError,
    missing_package,
    parse_sink_url,
    redact_url,
    split_secret,
)
from sfmonitor.store import CaptureStore, CredentialVault, Profile
from sfmonitor.timefmt import iso_from_ms

from .common import EXIT_OK, UsageError, printable, say

PRIVATE_URL = (
    "a password in a command line is visible to other users of this machine while it runs: "
    "`sfmonitor sinks add` keeps it in the keyring instead"
)


def add_parser(sub: Any) -> None:
    sinks = sub.add_parser(
        "sinks", help="sinks saved on a profile (Kafka, PostgreSQL, NDJSON) and their lag"
    )
    sinks.add_argument("--profile", help="profile name")
    ssub = sinks.add_subparsers(dest="sinks_command")
    listing = ssub.add_parser("list", help="each sink: its cursor and how far behind it is")
    add = ssub.add_parser("add", help="save a sink on the profile; its password to the keyring")
    remove = ssub.add_parser("remove", help="forget a sink and its cursor")
    for parser in (listing, add, remove):
        parser.add_argument("--profile", default=argparse.SUPPRESS, help="profile name")
    for parser in (add, remove):
        parser.add_argument(
            "url",
            help="kafka://HOST:PORT/TOPIC, postgresql://USER@HOST:PORT/DB?table=NAME, "
            "ndjson:///PATH",
        )
    add.add_argument(
        "--only-new",
        action="store_true",
        help="start with the events stored from now on (default: every stored event)",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the sink's password from stdin (default: asked for, if it needs one)",
    )


def _profile(args: argparse.Namespace, store: CaptureStore) -> tuple[Profile, int]:
    if not args.profile:
        raise UsageError("--profile NAME is needed")
    profile = store.profile(args.profile)
    if profile is None or profile.id is None:
        raise UsageError(f"no profile named {args.profile!r} (see: sfmonitor profiles list)")
    return profile, profile.id


def _spec_of(url: str) -> tuple[Any, str | None]:
    clean, password = split_secret(url)
    try:
        return parse_sink_url(clean), password
    except SinkUrlError as exc:
        raise UsageError(str(exc)) from None


def sinks_command(args: argparse.Namespace, store: CaptureStore) -> int:
    profile, pid = _profile(args, store)
    command = args.sinks_command or "list"
    if command == "list":
        for line in sink_lines(store, pid):
            print(line)
        return EXIT_OK
    spec, password = _spec_of(args.url)
    vault = CredentialVault(scope=store.vault_scope)
    if command == "remove":
        if not store.remove_sink(pid, spec.sink_id):
            raise UsageError(f"{profile.name!r} has no sink {spec.url!r}")
        with contextlib.suppress(Exception):  # no keyring: there is no entry either
            vault.delete_sink_secret(pid, spec.sink_id)
        say(f"removed sink {spec.url} of {profile.name!r}")
        return EXIT_OK
    return _add(args, store, vault, profile, spec, password)


def _add(
    args: argparse.Namespace,
    store: CaptureStore,
    vault: CredentialVault,
    profile: Profile,
    spec: Any,
    password: str | None,
) -> int:
    assert profile.id is not None
    missing = missing_package(spec)
    if missing:
        say(f"note: {missing} is not installed: pip install 'sfmonitor[sinks]' before capturing")
    if password is None and spec.needs_secret:
        password = _ask_password(spec, args.password_stdin)
    if password:
        register_secret(password)
        vault.save_sink_secret(profile.id, spec.sink_id, password)
    else:
        vault.check()
        vault.delete_sink_secret(profile.id, spec.sink_id)  # an old one would be wrong now
    store.save_sink(profile.id, spec.sink_id, spec.url, only_new=args.only_new)
    where = "; its password is in the keyring" if password else ""
    say(f"saved sink {spec.url} on {profile.name!r}{where}")
    return EXIT_OK


def _ask_password(spec: Any, from_stdin: bool) -> str | None:
    """The sink's password from stdin or a prompt. PostgreSQL may do without (libpq's
    ``~/.pgpass`` and ``PGPASSWORD``); a Kafka user may not."""
    required = isinstance(spec, KafkaSpec)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        hint = "" if required else " (empty: none, libpq's ~/.pgpass or PGPASSWORD apply)"
        password = getpass.getpass(f"Password for {spec.url}{hint}: ")
    else:
        password = ""
    if required and not password:
        raise UsageError(f"{spec.url} needs a password: type it when asked, or --password-stdin")
    return password or None


def sink_lines(store: CaptureStore, profile_id: int) -> list[str]:
    """One line per sink of the profile (saved, then the others that have a cursor): where
    its cursor is and how far behind the store it is. Works on a store another process
    captures into (read-only)."""
    saved = {s.sink_id: s.url for s in store.saved_sinks(profile_id)}
    cursors = store.sink_cursors(profile_id)
    lines = []
    now = time.time() * 1000
    for sink_id in [*saved, *(c for c in cursors if c not in saved)]:
        cursor = cursors.get(sink_id)
        position = cursor.last_event_id if cursor is not None else 0
        backlog = store.sink_backlog(profile_id, position)
        origin = "saved" if sink_id in saved else "given with --sink (not saved)"
        if cursor is None:
            acked = "no cursor yet: every stored event will be sent"
        else:
            ago = (now - cursor.updated_at) / 1000
            acked = (
                f"cursor {cursor.last_event_id} ({cursor.acked:,} acknowledged, last at "
                f"{iso_from_ms(cursor.updated_at)}, {ago:.0f} s ago)"
            )
        behind = f"{backlog.events:,} event(s) behind"
        if backlog.oldest_received_ms is not None:
            behind += f", oldest received {(now - backlog.oldest_received_ms) / 1000:.1f} s ago"
        url = saved.get(sink_id, sink_id)
        lines.append("\t".join(printable(part) for part in (url, origin, acked, behind)))
    return lines


# --- capture ---------------------------------------------------------------------------


def sink_arg(url: str) -> str:
    """An argparse ``type`` for ``--sink``: a URL that cannot be used is refused before
    anything else happens (exit 2), its password masked; the URL itself is kept whole (its
    password is split off later)."""
    try:
        parse_sink_url(split_secret(url)[0])
    except SinkUrlError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return url


def capture_plans(
    args: argparse.Namespace, store: CaptureStore, profile: Profile, vault: CredentialVault | None
) -> list[SinkPlan]:
    """The sinks a capture forwards to: the profile's saved ones (passwords from ``vault``,
    or, with ``vault`` None, one line each from stdin after the profile's secrets), and
    the ``--sink`` URLs."""
    assert profile.id is not None
    try:
        saved = saved_sink_plans(store, vault, profile.id)
        given = run_sink_plans(args.sink)
    except SinkUrlError as exc:
        raise UsageError(str(exc)) from None
    if vault is None:
        saved = [_password_from_stdin(plan) for plan in saved]
    for url, plan in zip(args.sink, given, strict=True):
        if plan.password:
            register_secret(plan.password)
            say(f"{redact_url(url)}: {PRIVATE_URL}")
        elif isinstance(plan.spec, KafkaSpec) and plan.spec.needs_secret:
            raise UsageError(f"{plan.spec.url} needs a password: save it with sfmonitor sinks add")
    plans = merge_plans(saved, given)
    for plan in plans:
        missing = missing_package(plan.spec)
        if missing:
            raise UsageError(
                f"{plan.spec.url}: {missing} is not installed (pip install 'sfmonitor[sinks]')"
            )
    return plans


def _password_from_stdin(plan: SinkPlan) -> SinkPlan:
    """A saved sink's password, the next line of stdin (empty or none: no password)."""
    if not plan.spec.needs_secret:
        return plan
    line = sys.stdin.readline().rstrip("\r\n")
    return SinkPlan(plan.spec, line or None)


def say_change(lag: Lag) -> None:
    """A sink changed state: say so once (the status line repeats the details)."""
    if lag.state is SinkState.FAILED:
        say(
            f"sink {lag.sink} stopped: {lag.problem}; its events stay in the store (fix it and "
            "start again; receiving and the other sinks go on)"
        )
    elif lag.state is SinkState.RETRYING:
        say(f"sink {lag.sink}: {lag.problem}; trying again, with growing pauses")
    elif lag.state is SinkState.FORWARDING:
        say(f"sink {lag.sink}: forwarding")


async def status_lines(
    forwarding: Forwarding, every: float, held: Callable[[], int] = lambda: 0
) -> None:
    """Every ``every`` seconds, one line per sink on stderr: its state and lag."""
    while True:
        await asyncio.sleep(every)
        await forwarding.recount()
        for lag in forwarding.lags():
            say(f"sink {lag.sink}: {lag.describe()}")
        if held():
            say(f"retention held back: {held():,} event(s) kept until the sinks acknowledge them")
