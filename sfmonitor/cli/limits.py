"""``sfmonitor limits --profile NAME [--json]``: the org's streaming limits from
``GET /limits/``, DailyDeliveredPlatformEvents (what a replay spends) first; ``--json``
prints Salesforce's own shape for every limit the org reports."""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from sfmonitor.discovery import Limits, fetch_limits
from sfmonitor.store import CaptureStore

from .common import EXIT_OK, printable
from .org import add_org_arguments, org_of


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("limits", help="the org's streaming limits (daily deliveries...)")
    add_org_arguments(parser)
    parser.add_argument("--json", action="store_true", help="every limit, as Salesforce says")


def lines(limits: Limits) -> list[str]:
    """One tab-separated line per streaming limit: name, remaining, max, used."""
    return [
        "\t".join(printable(str(v)) for v in (limit.name, limit.remaining, limit.max, limit.used))
        for limit in limits.streaming()
    ]


async def limits_command(args: argparse.Namespace, store: CaptureStore) -> int:
    async with org_of(args, store) as (_profile, call):
        limits: Limits = await call(
            lambda a: fetch_limits(a.instance_url, a.token, a.api_version, http=a.http)
        )
    if args.json:
        print(orjson.dumps(limits.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print("limit\tremaining\tmax\tused")
        for line in lines(limits):
            print(line)
    return EXIT_OK
