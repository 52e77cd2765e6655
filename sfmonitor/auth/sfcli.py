"""Logins the Salesforce CLI already has: ``sf org list`` and ``sf org display``.

sfmonitor never copies the CLI's refresh token: at each connect (and after a 401) it asks
``sf org display --json --target-org ALIAS`` for a current access token and instance URL;
the CLI refreshes its own login as needed. Newer CLIs hide the token in that output
(``[REDACTED] Use 'sf org auth show-access-token' to view``); then the token comes from
``sf org auth show-access-token --json``. Errors name the ``sf`` used and the command that
fixes them. The CLI runs as a subprocess with a timeout, never blocking the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..streaming.errors import TransportError
from .errors import SF_CLI, LoginError, LoginRequired
from .http import PostForm
from .tokens import Tokens, check_instance_url

log = logging.getLogger(__name__)

NAMES = ("sf", "sfdx")
DEFAULT_TIMEOUT = 60.0  # the CLI starts slowly and may refresh its login first
# JSON errors on stdout, and no update check in the middle of a login
ENVIRONMENT = {"SF_JSON_TO_STDOUT": "true", "SF_AUTOUPDATE_DISABLE": "true"}
_AUTH_FAILURES = ("RefreshTokenAuthError", "JwtAuthError", "expired access/refresh token")
ORG_GROUPS = {"other": "org", "sandboxes": "sandbox", "devHubs": "devhub", "scratchOrgs": "scratch"}


@dataclass(frozen=True)
class SfOrg:
    """One org of ``sf org list`` (no token: the list's tokens are never kept)."""

    username: str
    alias: str | None
    org_id: str | None
    instance_url: str | None
    kind: str  # "org", "sandbox", "devhub" or "scratch"
    connected_status: str | None = None

    @property
    def target(self) -> str:
        """What ``--target-org`` takes: the alias, else the username."""
        return self.alias or self.username


@dataclass(frozen=True)
class SfSession:
    """A current access token of a CLI org, from ``sf org display``."""

    access_token: str = field(repr=False)
    instance_url: str
    username: str
    org_id: str | None
    alias: str | None


class SfCli:
    """The ``sf`` executable: given (a path or a name on PATH) or found (``sf``, then ``sfdx``)."""

    def __init__(self, executable: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.requested = executable
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<SfCli {self.requested or 'sf'}>"

    @property
    def executable(self) -> str:
        """The full path of the ``sf`` used; LoginError when there is none."""
        names = (self.requested,) if self.requested else NAMES
        for name in names:
            found = shutil.which(name) if name else None
            if found:
                return found
        wanted = self.requested or "sf"
        raise LoginError(
            "sf_not_found",
            f"the Salesforce CLI ({wanted}) was not found"
            + ("" if os.sep in wanted else " on PATH"),
            hint="Install it (https://developer.salesforce.com/tools/salesforcecli) so that "
            "sf is on PATH (sfmonitor runs sf, else sfdx), and log it in to your org",
        )

    async def list_orgs(self) -> list[SfOrg]:
        """Every org the CLI is logged in to, without asking the orgs (fast)."""
        result = await self.run("org", "list", "--skip-connection-status")
        seen: dict[str, SfOrg] = {}
        for group, kind in ORG_GROUPS.items():
            for entry in result.get(group) or []:
                if isinstance(entry, dict) and isinstance(entry.get("username"), str):
                    org = _org_of(entry, kind)
                    seen.setdefault(org.username, org)
        return sorted(seen.values(), key=lambda o: (o.alias or "~", o.username))

    async def session(self, target: str) -> SfSession:
        """A current access token for ``target`` (alias or username)."""
        shown = await self.run("org", "display", "--target-org", target, target=target)
        instance = shown.get("instanceUrl")
        if not isinstance(instance, str) or not instance:
            raise LoginError(
                "sf_no_instance", f"`sf org display` shows no instance URL for {target}"
            )
        _check_connected(target, instance, shown.get("connectedStatus"))
        token = shown.get("accessToken")
        if not isinstance(token, str) or not token or token.startswith("[") or " " in token:
            # newer CLIs redact the token in `org display` output
            token = (
                await self.run(
                    "org", "auth", "show-access-token", "--target-org", target, target=target
                )
            ).get("accessToken")
        if not isinstance(token, str) or not token or " " in token:
            raise LoginError("sf_no_token", f"the Salesforce CLI gave no access token for {target}")
        return SfSession(
            access_token=token,
            instance_url=check_instance_url(instance, instance),
            username=str(shown.get("username", "")),
            org_id=_text(shown.get("id")),
            alias=_text(shown.get("alias")),
        )

    async def run(self, *args: str, target: str | None = None) -> dict[str, Any]:
        """Run ``sf ARGS --json``; the ``result`` object, or the CLI's error in words."""
        exe = self.executable
        command = " ".join(("sf", *args))
        try:
            proc = await asyncio.create_subprocess_exec(
                exe,
                *args,
                "--json",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, **ENVIRONMENT},
            )
        except OSError as exc:
            raise LoginError(
                "sf_not_found", f"cannot run {exe}: {exc.strerror}", hint="Check the sf path"
            ) from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise TransportError(
                f"`{command}` ({exe}) did not answer within {self.timeout:g} s"
            ) from None
        reply = _json_of(out) or _json_of(err)
        if reply is None:
            raise LoginError(
                "sf_failed",
                f"`{command}` ({exe}) exited with code {proc.returncode} without JSON output",
                hint=f"Run `{command}` in a terminal to see why",
            )
        if reply.get("status") == 0 and isinstance(reply.get("result"), dict):
            return dict(reply["result"])
        raise _cli_error(reply, command, exe, target)


class SfCliSource:
    """Token source of an ``sf-cli`` profile: ``sf org display`` at every (re)connect."""

    kind = SF_CLI

    def __init__(self, target: str, cli: SfCli | None = None, profile: str | None = None) -> None:
        self.target = target
        self.cli = cli or SfCli()
        self.profile = profile
        self.last: SfSession | None = None

    def __repr__(self) -> str:
        return f"<SfCliSource {self.target} via {self.cli!r}>"

    @property
    def login_url(self) -> str | None:
        return self.last.instance_url if self.last else None

    async def fetch(self, post_form: PostForm | None = None) -> Tokens:
        self.last = await self.cli.session(self.target)
        log.info(
            "access token of %s from the Salesforce CLI at %s", self.target, self.cli.executable
        )
        return Tokens(access_token=self.last.access_token, instance_url=self.last.instance_url)

    async def fetch_token(self, post_form: PostForm | None = None) -> tuple[str, str]:
        tokens = await self.fetch(post_form)
        return tokens.access_token, tokens.instance_url


def _json_of(output: bytes) -> dict[str, Any] | None:
    """The JSON object in the CLI's output (a warning line may come first)."""
    text = output.strip()
    start = text.find(b"{")
    if start < 0:
        return None
    try:
        data = orjson.loads(text[start:])
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _cli_error(reply: dict[str, Any], command: str, exe: str, target: str | None) -> LoginError:
    name = str(reply.get("name") or reply.get("code") or "sf_error")
    message = str(reply.get("message") or "").strip() or f"`{command}` failed"
    if target and (name == "NamedOrgNotFoundError" or "No authorization information" in message):
        return LoginError(
            "sf_org_not_found",
            message,
            hint=f"Log the Salesforce CLI ({exe}) in first: `sf org login web --alias {target}` "
            "(add `--instance-url https://test.salesforce.com` for a sandbox), or choose an "
            "org that `sf org list` shows",
        )
    if target and any(word in f"{name} {message}" for word in _AUTH_FAILURES):
        return _expired(target, None, message)
    return LoginError(name, message, hint=f"`{command}` failed ({exe})")


def _check_connected(target: str, instance: str, status: Any) -> None:
    """``connectedStatus`` of ``sf org display``: "Connected", absent (scratch orgs), or
    why the CLI could not refresh its login."""
    if not isinstance(status, str) or status in ("", "Connected"):
        return
    if any(word in status for word in _AUTH_FAILURES) or "invalid_grant" in status:
        raise _expired(target, instance, status)
    raise TransportError(f"the Salesforce CLI cannot reach {target}: {status}")


def _expired(target: str, instance: str | None, status: str) -> LoginRequired:
    url = f" --instance-url {instance}" if instance else ""
    return LoginRequired(
        "sf_session_expired",
        f"the Salesforce CLI's login to {target} has expired ({status})",
        hint=f"Run `sf org login web --alias {target}{url}`, then connect again",
    )


def _org_of(entry: dict[str, Any], kind: str) -> SfOrg:
    return SfOrg(
        username=entry["username"],
        alias=_text(entry.get("alias")),
        org_id=_text(entry.get("orgId")),
        instance_url=_text(entry.get("instanceUrl")),
        kind=kind,
        connected_status=_text(entry.get("connectedStatus")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
