"""``sfmonitor publish --profile NAME CHANNEL JSON``: a test event on a custom platform event
(``/event/X__e``, a JSON object; Salesforce's EventUuid is printed) or a push on a generic
channel (``/u/X``, any text; the subscribers reached are printed). A production org needs
``--yes``: every subscriber, flow and trigger of the org receives the event."""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from sfmonitor.discovery import PublishResult, PushResult, publish
from sfmonitor.store import CaptureStore

from .common import EXIT_FAILED, EXIT_OK, UsageError, check_channel, printable, say
from .org import add_org_arguments, org_of


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("publish", help="publish a test event (platform event or /u/ push)")
    add_org_arguments(parser)
    parser.add_argument("channel", type=check_channel, help="/event/X__e or /u/X")
    parser.add_argument(
        "payload", help="a JSON object for a platform event; any text for a /u/ channel"
    )
    parser.add_argument("--yes", action="store_true", help="publish in a production org")


def payload_of(channel: str, text: str) -> Any:
    """The payload to send: a JSON object for a platform event; for a generic channel the
    text itself (a JSON string is unquoted). UsageError for what cannot be sent."""
    if channel.startswith("/u/"):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        return value if isinstance(value, str) else text
    if not (channel.startswith("/event/") and channel.endswith("__e")):
        raise UsageError(
            f"{channel}: only custom platform events (/event/X__e) and generic channels (/u/X) "
            "can be published to"
        )
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"the payload is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError('a platform event payload is a JSON object, e.g. {"Field__c": "value"}')
    return value


def said(result: PublishResult | PushResult, channel: str) -> int:
    """Print Salesforce's answer (the result on stdout, words on stderr); the exit code."""
    if isinstance(result, PushResult):
        n = result.fanout_count
        reach = "every subscriber" if n < 0 else f"{n} subscriber(s)"
        print(n)
        say(f"pushed to {channel}: sent to {reach}")
        return EXIT_OK
    if not result.success:
        words = "; ".join(printable(str(e.get("message", e))) for e in result.errors)
        say(f"publish to {channel} failed: {words or 'Salesforce gave no reason'}")
        return EXIT_FAILED
    print(result.event_uuid or result.id)
    say(f"published to {channel}: EventUuid {result.event_uuid or '(none given)'}")
    return EXIT_OK


async def publish_command(args: argparse.Namespace, store: CaptureStore) -> int:
    payload = payload_of(args.channel, args.payload)
    async with org_of(args, store) as (profile, call):
        if profile.is_production and not args.yes:
            raise UsageError(
                f"{profile.name!r} is a production org: every subscriber receives this event; "
                "pass --yes to publish"
            )
        result: PublishResult | PushResult = await call(
            lambda a: publish(
                a.instance_url, a.token, args.channel, payload, a.api_version, http=a.http
            )
        )
    return said(result, args.channel)
