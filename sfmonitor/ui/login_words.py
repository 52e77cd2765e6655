"""A refused login in the window's words: what Salesforce said, verbatim, and what to do
about it here (the command-line advice of ``sfmonitor.auth`` names commands; the window
names its menus)."""

from __future__ import annotations

from sfmonitor.auth import LoginRequired
from sfmonitor.store import AuthKind, Profile
from sfmonitor.streaming import AuthenticationError

EDIT = "Profiles ▸ Edit profile…"


def refusal_text(profile: Profile, exc: AuthenticationError) -> str:
    """The status bar's line for a login that Salesforce refused."""
    kind = profile.auth_kind
    said = f"{exc.error}: {exc.description}" if exc.description else exc.error
    if isinstance(exc, LoginRequired) and kind in (AuthKind.WEB, AuthKind.REFRESH_TOKEN):
        how = "Log in with browser…" if kind is AuthKind.WEB else "a new refresh token"
        return (
            f"Login refused ({said}): the saved login was revoked or has expired. "
            f"Log in again: {EDIT}, then {how}"
        )
    if kind is AuthKind.PASSWORD and exc.description.lower() == "authentication failure":
        return (
            f"Login refused ({said}): either the username, password or security token is "
            "wrong, or the org blocks the username-password login (the default in orgs "
            "created since Summer '23). Log in with your browser instead: "
            f"{EDIT}, Sign in with: Browser"
        )
    return f"login refused: {exc}"
