"""``discover()``: every channel of an org, from six calls made at once, each allowed to
fail alone. A refusal for lack of a permission becomes a source status that says what is
missing ("needs the View Setup and Configuration permission"), never a failed discovery;
only when nothing at all could be asked (the token refused, the org unreachable) does
``discover()`` raise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..auth.http import OAuthHttp
from ..streaming.errors import AuthenticationError, TransportError
from . import sources as src
from .model import Discovery, SourceStatus, sort_channels
from .rest import RestClient, RestError, TokenSource


@dataclass
class _Outcome:
    data: Any = None
    error: Exception | None = None

    @property
    def records(self) -> list[dict[str, Any]] | None:
        return None if self.error is not None else self.data


async def _ask(client: RestClient, source: src.Source) -> _Outcome:
    try:
        if source.soql is None:
            reply = await client.get("sobjects/")
            entries = reply.get("sobjects") if isinstance(reply, dict) else None
            if not isinstance(entries, list):
                raise TransportError("describeGlobal answered without sobjects")
            return _Outcome([e for e in entries if isinstance(e, dict)])
        return _Outcome(await client.query_all(source.soql, source.tooling))
    except (RestError, TransportError, AuthenticationError) as exc:
        return _Outcome(error=exc)


def _status(source: src.Source, outcome: _Outcome, count: int) -> SourceStatus:
    exc = outcome.error
    if exc is None:
        return SourceStatus(source.name, source.label, True, count)
    permission = isinstance(exc, RestError) and exc.permission
    return SourceStatus(
        source.name,
        source.label,
        False,
        count,  # what could still be shown from the other sources
        error=str(exc),
        hint=source.hint if permission else None,
        permission=permission,
    )


async def discover(
    instance_url: str,
    token: str | TokenSource,
    api_version: str | None = None,
    *,
    http: OAuthHttp | None = None,
) -> Discovery:
    """Ask the org for all its channels. ``token`` is an access token or a token source
    (asked again once on a 401); ``api_version`` None uses the newest the org serves."""
    client = RestClient(instance_url, token, api_version, http)
    version = await client.version()
    asked = await asyncio.gather(*(_ask(client, s) for s in src.SOURCES))
    got = dict(zip((s.name for s in src.SOURCES), asked, strict=True))
    _raise_if_nothing_answered(asked)
    entries = got["objects"].records
    members = got["channel_members"].records
    built = {
        "pushtopics": src.push_topics(got["pushtopics"].records or ()),
        "generic": src.generic_channels(got["generic"].records or ()),
        "objects": src.platform_events(entries or ()) + src.change_events(entries, members),
        "custom_channels": src.custom_channels(got["custom_channels"].records or (), members),
        "channel_members": [],
        "monitoring": src.monitoring_streams(got["monitoring"].records, entries),
    }
    counts = {name: len(found) for name, found in built.items()}
    counts["channel_members"] = len(members or ())
    return Discovery(
        instance_url=client.instance_url,
        api_version=version,
        discovered_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        channels=sort_channels(c for found in built.values() for c in found),
        sources=tuple(_status(s, got[s.name], counts[s.name]) for s in src.SOURCES),
    )


def _raise_if_nothing_answered(outcomes: list[_Outcome]) -> None:
    """The token refused everywhere, or no answer at all: not a discovery to show."""
    errors = [o.error for o in outcomes]
    if any(e is None or isinstance(e, RestError) for e in errors):
        return
    auth = next((e for e in errors if isinstance(e, AuthenticationError)), None)
    raise auth or errors[0] or TransportError("no answer")
