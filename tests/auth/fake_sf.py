"""A stand-in for the Salesforce CLI's ``sf``, installed on PATH by the tests.

It answers ``sf org list``, ``sf org display`` and ``sf org auth show-access-token`` with the
JSON shapes of the real CLI (plugin-org: ``{"status": 0, "result": …}``; errors
``{"status": 1, "name": "NamedOrgNotFoundError", "message": …}`` on stdout). Like the real
CLI it refreshes its own login at ``display``: a refresh-token grant against the emulator,
with a refresh token that only this "CLI" knows. ``FAKE_SF_CONFIG`` names a JSON file:
``{"alias", "username", "login_url", "client_id", "refresh_token", "mode", "log"}`` where mode
is ``ok``, ``redacted`` (newer CLIs hide the token in ``display``) or ``expired``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

REDACTED = "[REDACTED] Use 'sf org auth show-access-token' to view"


def refresh(config: dict[str, str]) -> dict[str, str] | None:
    form = urllib.parse.urlencode(
        {
            "grant_type": "refresh_token",
            "client_id": config["client_id"],
            "refresh_token": config["refresh_token"],
        }
    ).encode()
    try:
        with urllib.request.urlopen(f"{config['login_url']}/services/oauth2/token", form) as r:
            return dict(json.load(r))
    except urllib.error.HTTPError:
        return None


def reply(result: object, status: int = 0, **extra: object) -> int:
    print("Warning: a line the CLI sometimes prints first")
    print(json.dumps({"status": status, "result": result, "warnings": [], **extra}))
    return status


def not_found(target: str) -> int:
    print(
        json.dumps(
            {
                "name": "NamedOrgNotFoundError",
                "message": f"No authorization information found for {target}.",
                "exitCode": 1,
                "context": "OrgDisplay",
                "status": 1,
                "code": "NamedOrgNotFoundError",
                "warnings": [],
            }
        )
    )
    return 1


def main(args: list[str]) -> int:
    with open(os.environ["FAKE_SF_CONFIG"]) as file:
        config = json.load(file)
    with open(config["log"], "a") as log:
        log.write(json.dumps(args) + "\n")
    org = {
        "alias": config["alias"],
        "username": config["username"],
        "orgId": config.get("org_id", "00DDn00000000AbMAI"),
        "instanceUrl": config["login_url"],
        "loginUrl": config["login_url"],
        "accessToken": REDACTED,
        "clientId": "PlatformCLI",
    }
    if args[:2] == ["org", "list"]:
        scratch = {**org, "alias": "scratchy", "username": "scratch@example.com"}
        return reply(
            {
                "other": [org],
                "nonScratchOrgs": [org],
                "sandboxes": [],
                "devHubs": [],
                "scratchOrgs": [scratch],
            }
        )
    target = args[args.index("--target-org") + 1] if "--target-org" in args else ""
    if target not in (config["alias"], config["username"]):
        return not_found(target)
    tokens = None if config["mode"] == "expired" else refresh(config)
    token = tokens["access_token"] if tokens else "00DDn00000000Ab!stale-token-of-the-cli"
    if args[:2] == ["org", "display"]:
        status = "Connected" if tokens else "RefreshTokenAuthError"
        shown = REDACTED if config["mode"] == "redacted" else token
        return reply({**org, "id": org["orgId"], "accessToken": shown, "connectedStatus": status})
    if args[:3] == ["org", "auth", "show-access-token"]:
        return reply({"accessToken": token})
    print(json.dumps({"status": 1, "name": "CommandNotFound", "message": "no such command"}))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:-1] if sys.argv[-1] == "--json" else sys.argv[1:]))
