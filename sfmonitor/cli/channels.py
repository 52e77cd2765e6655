"""``sfmonitor channels --profile NAME [--kind K] [--json]``: every channel discovery finds
in the org, one line each (kind, channel, label, badges), or the whole discovery as JSON. A
source Salesforce refused (a missing permission) is said on stderr; the rest is printed."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from sfmonitor.discovery import Discovery, Kind, discover
from sfmonitor.store import CaptureStore

from .common import EXIT_OK, printable, say
from .org import add_org_arguments, org_of


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("channels", help="list the channels the org has (discovery)")
    add_org_arguments(parser)
    parser.add_argument(
        "--kind",
        action="append",
        choices=[kind.value for kind in Kind],
        help="only channels of this kind (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="the discovery as JSON")


def lines(found: Discovery) -> list[str]:
    """One tab-separated line per channel: kind, channel, label, badges."""
    return [
        "\t".join(
            printable(text) for text in (c.kind.value, c.channel, c.label, ", ".join(c.badges))
        )
        for c in found.channels
    ]


async def channels_command(args: argparse.Namespace, store: CaptureStore) -> int:
    async with org_of(args, store) as (_profile, call):
        found: Discovery = await call(
            lambda a: discover(a.instance_url, a.token, a.api_version, http=a.http)
        )
    if args.kind:
        kinds = {Kind(k) for k in args.kind}
        found = replace(found, channels=tuple(c for c in found.channels if c.kind in kinds))
    for source in found.failed:
        say(source.text)
    if args.json:
        print(found.to_json())
    else:
        for line in lines(found):
            print(line)
    say(f"{len(found.channels)} channel(s) in {found.instance_url}")
    return EXIT_OK
