"""``sfmonitor profiles add|login|list|remove``: connection profiles; what a login leaves
(a refresh token, a client secret) in the keyring, who and where it is on the profile."""

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
from sfmonitor.store.models import DEFAULT_CALLBACK_PORT, PRODUCTION_URL, SANDBOX_URL, TRANSPORTS
from sfmonitor.store.transports import pubsub_endpoint_problem
from sfmonitor.streaming import AuthenticationError, StreamingError

from .common import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_OK,
    NO_LIMIT,
    UsageError,
    check_channel,
    keep_days_arg,
    keep_events_arg,
    printable,
    profile_name_arg,
    say,
)
from .profile_login import CHECKED_AT_ADD, forget_login, keep_secrets, log_in, said_login

KINDS = tuple(kind.value for kind in AuthKind)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535, not {text!r}")
    return int(text)


def _login_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="read the secrets from stdin, one per line, instead of prompting",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="web: only print the login address (to open in a browser yourself)",
    )


def add_parser(sub: Any) -> None:
    profiles = sub.add_parser("profiles", help="manage connection profiles")
    psub = profiles.add_subparsers(dest="profiles_command", required=True)
    add = psub.add_parser("add", help="add or update a profile, logging in; secrets to the keyring")
    add.add_argument("name", type=profile_name_arg)
    where = add.add_mutually_exclusive_group()
    where.add_argument("--production", action="store_true", help="login.salesforce.com")
    where.add_argument("--sandbox", action="store_true", help="test.salesforce.com")
    where.add_argument("--login-url", help="My Domain or another login URL")
    add.add_argument(
        "--auth",
        choices=KINDS,
        help="how to log in: web (in the browser; the default), sf-cli (an org of the "
        "Salesforce CLI), jwt (a certificate, unattended), client-credentials (integration "
        "user); legacy: password, refresh-token",
    )
    add.add_argument("--client-id", default="", help="the consumer key of your app")
    add.add_argument(
        "--callback-port",
        type=_port,
        help=f"web: the port of the app's callback URL http://localhost:PORT/OauthRedirect "
        f"(default {DEFAULT_CALLBACK_PORT})",
    )
    add.add_argument("--sf-org", default="", help="sf-cli: an alias or username of `sf org list`")
    add.add_argument("--username", default="", help="jwt, password: the Salesforce username")
    add.add_argument("--key-file", default="", help="jwt: the private key file (PEM)")
    add.add_argument("--api-version", default="", help="pin an API version (default: newest)")
    add.add_argument("--channel", action="append", default=[], help="subscribe to (repeatable)")
    add.add_argument(
        "--transport",
        choices=TRANSPORTS,
        help="the channels' API unless a channel says otherwise (default: unchanged, or cometd)",
    )
    add.add_argument(
        "--pubsub-endpoint",
        type=_endpoint_arg,
        help="host:port of the Pub/Sub API (default: api.pubsub.salesforce.com:7443)",
    )
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
    _login_options(add)
    login = psub.add_parser(
        "login", help="log in again (web: in the browser) and keep what the login leaves"
    )
    login.add_argument("name")
    _login_options(login)
    psub.add_parser("list", help="list profiles")
    remove = psub.add_parser("remove", help="remove a profile, its secrets and its captures")
    remove.add_argument("name")


def _endpoint_arg(text: str) -> str:
    problem = pubsub_endpoint_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def profiles_command(args: argparse.Namespace, store: CaptureStore) -> int:
    vault = CredentialVault(scope=store.vault_scope)
    if args.profiles_command == "list":
        list_profiles(store)
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
    try:
        if args.profiles_command == "login":
            return login_again(args, store, vault)
        return add_profile(args, store, vault)
    except AuthenticationError as exc:
        say(f"login failed: {exc}")
        return EXIT_AUTH
    except StreamingError as exc:  # the org or the Salesforce CLI could not be reached
        say(f"login failed: {exc}")
        return EXIT_FAILED


def list_profiles(store: CaptureStore) -> None:
    """One line per profile: name, environment, URL, login kind, user, the org's kind
    (``-`` before any login), channels and events."""
    for p in store.profiles():
        n_channels = len(store.subscriptions(p.id)) if p.id is not None else 0
        counts = store.channel_counts(p.id) if p.id is not None else {}
        where = p.login_url or p.source or (f"sf org {p.sf_org}" if p.sf_org else "")
        user = p.username or p.org.user
        fields = (p.name, p.environment.value, where, p.auth_kind.value, user, p.org.kind or "-")
        print(
            "\t".join(printable(f) for f in fields)
            + f"\t{n_channels} channels\t{sum(counts.values())} events"
        )


def _where(args: argparse.Namespace, kind: AuthKind) -> tuple[Environment, str]:
    if args.production:
        return Environment.PRODUCTION, PRODUCTION_URL
    if args.sandbox:
        return Environment.SANDBOX, SANDBOX_URL
    if args.login_url:
        url = args.login_url.rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise UsageError(f"--login-url must start with https:// (got {args.login_url!r})")
        return Environment.CUSTOM, url
    if kind is AuthKind.SF_CLI:  # the CLI knows where its org is
        return Environment.CUSTOM, ""
    raise UsageError("say where to log in: --production, --sandbox or --login-url URL")


def _kind(args: argparse.Namespace) -> AuthKind:
    if args.auth is None and args.username and not args.key_file:
        # what `profiles add --username U` meant before the login kinds
        say("--username without --auth: the legacy password login (say --auth password)")
        return AuthKind.PASSWORD
    kind = AuthKind(args.auth or AuthKind.WEB.value)
    needed = {
        AuthKind.WEB: ("client_id",),
        AuthKind.SF_CLI: ("sf_org",),
        AuthKind.JWT: ("client_id", "username", "key_file"),
        AuthKind.CLIENT_CREDENTIALS: ("client_id",),
        AuthKind.PASSWORD: ("username", "client_id"),
        AuthKind.REFRESH_TOKEN: ("client_id",),
    }[kind]
    missing = [f"--{name.replace('_', '-')}" for name in needed if not getattr(args, name)]
    if missing:
        raise UsageError(f"{' and '.join(missing)} needed for --auth {kind.value}")
    return kind


def _profile_of(args: argparse.Namespace, existing: Profile | None) -> Profile:
    """The profile ``add`` asks for; what is not given is kept (retention, channels)."""
    kind = _kind(args)
    env, url = _where(args, kind)
    keep_events = existing.keep_events if existing else None
    keep_days = existing.keep_days if existing else None
    if args.keep_events is not None:
        keep_events = None if args.keep_events == NO_LIMIT else args.keep_events
    if args.keep_days is not None:
        keep_days = None if args.keep_days == NO_LIMIT else args.keep_days
    return Profile(
        args.name,
        env,
        url,
        kind,
        args.username,
        args.client_id,
        args.api_version,
        keep_events=keep_events,
        keep_days=keep_days,
        id=existing.id if existing else None,
        callback_port=args.callback_port or DEFAULT_CALLBACK_PORT,
        sf_org=args.sf_org,
        key_file=args.key_file,
        transport=args.transport or (existing.transport if existing else "cometd"),
        pubsub_endpoint=args.pubsub_endpoint
        if args.pubsub_endpoint is not None
        else (existing.pubsub_endpoint if existing else ""),
    )


def add_profile(args: argparse.Namespace, store: CaptureStore, vault: CredentialVault) -> int:
    """``profiles add``: a new profile, or new settings for one. ``web`` logs in in the
    browser; ``sf-cli``, ``jwt`` and ``client-credentials`` log in once to check; then the
    profile is saved with who and where that login was."""
    existing = store.profile(args.name)
    if existing is not None and existing.read_only:
        raise UsageError(f"{args.name!r} is an imported capture, not a profile to connect with")
    channels = [check_channel(c) for c in args.channel]
    profile = _profile_of(args, existing)
    profile, secrets = log_in(
        profile,
        vault,
        secrets_stdin=args.secrets_stdin,
        open_browser=not args.no_browser,
        check=profile.auth_kind in CHECKED_AT_ADD,
    )
    keep_secrets(vault, profile, secrets)
    try:
        profile = store.save_profile(profile)
    except BaseException:
        if existing is None and profile.auth_kind.keyring_secrets:
            vault.delete(profile.name)
        raise
    assert profile.id is not None
    known = {s.channel for s in store.subscriptions(profile.id)}
    for channel in channels:
        if channel not in known:
            store.set_subscription(profile.id, Subscription(channel))
    kept = "; its secrets are in the keyring" if profile.auth_kind.keyring_secrets else ""
    where = profile.login_url or f"sf org {profile.sf_org}"
    say(
        f"saved profile {profile.name!r} ({profile.environment.value}, {where}, "
        f"--auth {profile.auth_kind.value}){kept}{said_login(profile)}"
    )
    return EXIT_OK


def login_again(args: argparse.Namespace, store: CaptureStore, vault: CredentialVault) -> int:
    """``profiles login``: log in now (web: in the browser; password, refresh-token and
    client-credentials: with secrets typed again) and keep what the login leaves."""
    profile = store.profile(args.name)
    if profile is None or profile.id is None:
        raise UsageError(f"no profile named {args.name!r} (see: sfmonitor profiles list)")
    if profile.read_only or profile.environment is Environment.DEMO:
        raise UsageError(f"{profile.name!r} has no login of its own")
    profile, secrets = log_in(
        forget_login(profile),
        vault,
        secrets_stdin=args.secrets_stdin,
        open_browser=not args.no_browser,
        check=True,
    )
    if profile.auth_kind.keyring_secrets:
        vault.save(profile.name, secrets)
    store.save_profile(profile)
    say(f"logged in {profile.name!r} again{said_login(profile)}")
    return EXIT_OK
