"""What ``channels``, ``limits`` and ``publish`` share: which profile's org to ask (or the
demo's), a login with that profile's own client (``capture.profile_credentials``: the same
token source as a capture, tried again once after a 401), and Salesforce's refusals as exit
codes. These commands only read the store, so they work while the window holds it."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sfmonitor.capture import RestAccess, profile_credentials
from sfmonitor.discovery import PublishError, RestError
from sfmonitor.store import CaptureStore, CredentialVault, Profile
from sfmonitor.streaming import AuthenticationError, StreamingError

from .common import EXIT_AUTH, EXIT_FAILED, UsageError, profile_secrets, say

T = TypeVar("T")
Call = Callable[[Callable[[RestAccess], Awaitable[T]]], Awaitable[T]]


def add_org_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="profile name (not needed with --demo)")
    parser.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="read the secrets from stdin (kept in memory only) instead of the keyring",
    )
    parser.add_argument("--demo", action="store_true", help="ask the built-in emulator's org")


def _profile(args: argparse.Namespace, store: CaptureStore) -> Profile:
    if not args.profile:
        raise UsageError("--profile NAME is needed (or --demo)")
    profile = store.profile(args.profile)
    if profile is None:
        raise UsageError(f"no profile named {args.profile!r} (see: sfmonitor profiles list)")
    if profile.read_only:
        raise UsageError(f"{profile.name!r} is an imported capture: it has no org to ask")
    return profile


@contextlib.asynccontextmanager
async def org_of(
    args: argparse.Namespace, store: CaptureStore
) -> AsyncIterator[tuple[Profile, Call[Any]]]:
    """The profile and a ``call(op)`` that runs ``op(access)`` with its login; the demo's
    emulator (``--demo``) runs until the block ends."""
    demo, vault = None, None
    if args.demo:
        from sfmonitor.capture.demo import start_demo

        demo = await start_demo(None if store.read_only else store)
        profile, secrets = demo.profile, demo.secrets
    else:
        profile = _profile(args, store)
        secrets = profile_secrets(store, profile, args.secrets_stdin)
        if not args.secrets_stdin:  # a rotated refresh token goes back to the keyring
            vault = CredentialVault(scope=store.vault_scope)
    credentials = profile_credentials(profile, secrets, store, vault, warn=say)
    try:
        yield profile, credentials.call
    finally:
        await credentials.close()
        if demo is not None:
            await demo.emulator.stop()


async def answered(
    command: Callable[[argparse.Namespace, CaptureStore], Awaitable[int]],
    args: argparse.Namespace,
    store: CaptureStore,
) -> int:
    """``command``'s exit code; a refusal of the org or the network is said in words and
    has its own code (anything else is a bug, and raises)."""
    try:
        return await command(args, store)
    except Exception as exc:
        code = refusal_exit(exc)
        if code is None:
            raise
        return code


def refusal_exit(exc: BaseException) -> int | None:
    """The exit code (the words said on stderr) for a refusal of the org or the network;
    None for anything else."""
    if isinstance(exc, AuthenticationError):
        say(f"login refused: {exc}")
        return EXIT_AUTH
    if isinstance(exc, RestError) and exc.permission:
        say(f"{exc}\n(this needs the View Setup and Configuration permission)")
        return EXIT_FAILED
    if isinstance(exc, PublishError | RestError | StreamingError):
        say(str(exc))
        return EXIT_FAILED
    return None
