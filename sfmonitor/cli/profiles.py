"""``sfmonitor profiles add|list|remove``: connection profiles, secrets in the keyring."""

from __future__ import annotations

import argparse
from typing import Any

from sfmonitor.store import (
    AuthKind,
    CaptureStore,
    CredentialVault,
    Environment,
    Profile,
    Subscription,
)
from sfmonitor.store.models import PRODUCTION_URL, SANDBOX_URL

from .common import (
    EXIT_OK,
    NO_LIMIT,
    UsageError,
    check_channel,
    keep_days_arg,
    keep_events_arg,
    printable,
    profile_name_arg,
    read_secrets,
    say,
)


def add_parser(sub: Any) -> None:
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
        for sink in store.saved_sinks(profile.id):  # their passwords too
            vault.delete_sink_secret(profile.id, sink.sink_id)
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
