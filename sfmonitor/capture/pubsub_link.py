"""The Pub/Sub channels of a ``Capture``: one ``PubSubConnection`` (one gRPC channel) for
the org, one stream per topic, every event into the capture's writer beside the CometD
ones, with the same notices (status, gaps) and the same stop.

Where a topic starts: its stored Pub/Sub position (the replay id bytes of its newest stored
event, or of a keepalive's ``latest_replay_id``), else its live-since mark (it went live
with "new events only" and received nothing: EARLIEST, dropping older events), else its
policy. A position stored by CometD is never used here (nor the reverse): a channel moved
to the other transport starts from its policy.

The token comes from the capture's own client (the same login as CometD, asked again when
Pub/Sub refuses it); the org id (``tenantid``) from the identity of that login.
gRPC is loaded only when a Pub/Sub channel runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfmonitor.auth.http import OAuthHttp
from sfmonitor.auth.identity import identify
from sfmonitor.logs import register_token
from sfmonitor.store import ReplayState
from sfmonitor.store.models import PUBSUB
from sfmonitor.store.records import PubSubWire
from sfmonitor.store.transports import parse_pubsub_endpoint
from sfmonitor.streaming import (
    AuthenticationError,
    BaseSalesforceStreaming,
    ChannelChange,
    ChannelStatus,
    Notice,
    UsageError,
)
from sfmonitor.streaming.endpoints import check_instance_url, check_login_url
from sfmonitor.streaming.policy import Backoff

from .writer import StoreWriteError

if TYPE_CHECKING:
    from sfmonitor.pubsub import Credentials, PubSubConnection, PubSubEvent, ReplayFrom

    from .pipeline import Capture

log = logging.getLogger(__name__)


class CaptureTokens:
    """A Pub/Sub ``TokenSource`` from the capture's client: its login (the same checks as
    CometD's: no credentials in clear, no token to an odd instance URL) and the org id."""

    def __init__(self, client: BaseSalesforceStreaming, org_id: str = "") -> None:
        self.client = client
        # TODO(lead): pass the profile's stored org id here once logins keep it; until
        # then it comes from the identity of the first login (one userinfo call).
        self.org_id = org_id
        self._credentials: Credentials | None = None

    def current(self) -> Credentials:
        if self._credentials is None:
            raise RuntimeError("not logged in yet")
        return self._credentials

    async def refresh(self) -> Credentials:
        from sfmonitor.pubsub import Credentials

        client = self.client
        check_login_url(client.login_url)
        token, instance_url = await client.fetch_token()
        register_token(token)
        instance_url = check_instance_url(instance_url, client.login_url, client.trusted_hosts)
        if not self.org_id:
            who = await identify(instance_url, token, OAuthHttp(client.http_options))
            self.org_id = who.org_id
        self._credentials = Credentials(token, instance_url.rstrip("/"), self.org_id)
        return self._credentials


class StoredSchemas:
    """The capture store as a Pub/Sub ``SchemaStore``: read once at start, each new schema
    written through the writer (never on the event loop's thread)."""

    def __init__(self, capture: Capture, known: dict[str, str]) -> None:
        self.capture = capture
        self.known = known

    def load_schema(self, schema_id: str) -> str | None:
        return self.known.get(schema_id)

    def save_schema(self, schema_id: str, schema_json: str) -> None:
        self.known[schema_id] = schema_json
        cap = self.capture
        cap._spawn(cap.writer.call(cap.store.save_schema, schema_id, schema_json))


def start_of(policy: str) -> ReplayFrom:
    """A subscription's replay policy (``new``, ``all``, -1, -2 or an id) as a Pub/Sub start
    (an id means the events after it, as on CometD)."""
    from sfmonitor.pubsub import ReplayFrom

    from .clients import policy_replay

    value = policy_replay(policy)
    if value == -1:
        return ReplayFrom.latest()
    if value == -2:
        return ReplayFrom.earliest()
    return ReplayFrom.custom(value)


class PubSubLink:
    """The Pub/Sub side of one capture (also its ``SubscriptionListener``)."""

    def __init__(self, capture: Capture, channels: set[str], org_id: str = "") -> None:
        self.capture = capture
        self.channels = channels  # the capture's Pub/Sub channels (changed by add/remove)
        self.tokens = CaptureTokens(capture.client, org_id)
        self.states: dict[str, ReplayState] = {}
        self.started_new: set[str] = set()
        self.conn: PubSubConnection | None = None
        # SubscribeSettings of every topic (None: the defaults, with the client's policy
        # for a stale replay id); set before run() to change them
        self.settings: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._backoff = Backoff(base=1.0, cap=60.0)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self, states: dict[str, ReplayState]) -> None:
        """Log in and subscribe every Pub/Sub channel, in the background."""
        self.states = {ch: s for ch, s in states.items() if s.transport == PUBSUB}
        if self._task is None and not self._closed.is_set():
            self._task = asyncio.ensure_future(self._open())

    async def _open(self) -> None:
        from sfmonitor.pubsub import PubSubConnection

        cap = self.capture
        for channel in sorted(self.channels):
            self.on_notice(ChannelChange(channel, ChannelStatus.SUBSCRIBING))
        try:
            target, tls = parse_pubsub_endpoint(cap.profile.pubsub_endpoint)
            schemas = await cap.writer.call(cap.store.avro_schemas)
            await self._log_in()
            self.conn = PubSubConnection(
                self.tokens,
                target,
                tls=tls,
                root_certificates=_roots(cap.client),
                schema_store=StoredSchemas(cap, schemas),
            )
        except Exception as exc:  # a refused login, a bad endpoint, the store: never quietly
            cap._fail(exc)
            return
        for channel in sorted(self.channels):
            self._subscribe(channel, self.start_point(channel))

    async def _log_in(self) -> None:
        """The first token and the org id; an org out of reach is tried again with
        backoff (the channels say so), a refused login ends the capture."""
        while True:
            try:
                await self.tokens.refresh()
                return
            except (AuthenticationError, UsageError):  # refused, or nothing to log in with
                raise
            except Exception as exc:  # no answer, an outage page: not a verdict
                delay = self._backoff.next()
                for channel in sorted(self.channels):
                    text = f"{exc}; trying again in {delay:.1f} s"
                    self.on_notice(ChannelChange(channel, ChannelStatus.SUBSCRIBING, text))
                await asyncio.sleep(delay)

    async def close(self) -> None:
        """Stop every stream and close the gRPC channel (before the loop ends)."""
        self._closed.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()

    # --- channels --------------------------------------------------------------------------

    def start_point(self, channel: str) -> ReplayFrom:
        from sfmonitor.pubsub import Preset, ReplayFrom

        cap = self.capture
        state = self.states.get(channel)
        if cap.book.override is not None:
            start = start_of(cap.book.override)
        elif state is not None and state.replay_bytes:
            return ReplayFrom.custom(state.replay_bytes)
        elif state is not None and state.live_since is not None:
            return ReplayFrom.live_since(state.live_since / 1000)
        else:
            start = start_of(cap.book.policies.get(channel, "new"))
        if start.preset is Preset.LATEST:
            self.started_new.add(channel)
        return start

    def _subscribe(self, channel: str, start: ReplayFrom) -> None:
        from sfmonitor.pubsub import SubscribeSettings

        if self.conn is None:
            return  # not logged in yet: ``_open`` subscribes every channel
        settings = self.settings or SubscribeSettings(stale_replay=self.capture.client.stale_replay)
        self.conn.subscribe(channel, self, start, settings)

    async def add(self, channel: str, since_ms: int | None = None) -> None:
        """A channel (re)added while capturing: from its policy (set in the book), or
        from a time (every retained event, those created before ``since_ms`` dropped)."""
        self.states.pop(channel, None)
        if since_ms is not None:
            self.states[channel] = ReplayState(channel, None, None, since_ms, transport=PUBSUB)
        self.channels.add(channel)
        if not self.started:
            self.start(dict(self.states))  # the first Pub/Sub channel of this run
            return
        await self.remove(channel, forget=False)
        self._subscribe(channel, self.start_point(channel))

    async def remove(self, channel: str, forget: bool = True) -> None:
        if forget:
            self.channels.discard(channel)
            self.states.pop(channel, None)
        self.started_new.discard(channel)
        if self.conn is not None:
            await self.conn.unsubscribe(channel)

    async def replay(self, channel: str) -> None:
        """Every retained event of ``channel`` again (EARLIEST); the store drops those it
        has, the capture's cutoff those older than asked."""
        from sfmonitor.pubsub import ReplayFrom

        self.channels.add(channel)
        if self.conn is not None:
            await self.conn.unsubscribe(channel)
        self._subscribe(channel, ReplayFrom.earliest())

    # --- SubscriptionListener ----------------------------------------------------------------

    async def on_events(self, topic: str, events: Sequence[PubSubEvent]) -> None:
        cap = self.capture
        writer, cutoffs = cap.writer, cap.replay_cutoffs
        on_event, on_record = cap.on_event, cap.on_record
        cap.stats.received += len(events)
        for item in events:
            event = item.event
            if cutoffs and event.created_at.timestamp() < cutoffs.get(topic, 0.0):
                continue
            record = writer.add(event, PubSubWire(item.replay_id, item.schema_id, item.payload))
            if on_event is not None:
                on_event(event)
            if on_record is not None:
                on_record(record)
        try:
            await writer.wait_room()
        except StoreWriteError:
            await self._closed.wait()  # the capture stops: this stream goes no further

    def on_position(self, topic: str, replay_id: bytes) -> None:
        self.capture.writer.set_position(topic, replay_id)

    def on_notice(self, notice: Notice) -> None:
        cap = self.capture
        if (
            isinstance(notice, ChannelChange)
            and notice.status is ChannelStatus.LIVE
            and notice.channel in self.started_new
        ):
            self.started_new.discard(notice.channel)
            since = int(notice.at * 1000)
            mark = cap.store.mark_live_since
            cap._spawn(cap.writer.call(mark, cap.profile_id, notice.channel, since, PUBSUB))
        cap._notice(notice)


def _roots(client: BaseSalesforceStreaming) -> bytes | None:
    """The CA bundle the client verifies TLS with, when it is a file (else the system's)."""
    option: Any = client.http_options.ssl
    if isinstance(option, str | Path):
        with contextlib.suppress(OSError):
            return Path(option).read_bytes()
    return None


__all__ = ["CaptureTokens", "PubSubLink", "StoredSchemas", "start_of"]
