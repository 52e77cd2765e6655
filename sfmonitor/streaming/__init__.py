"""Salesforce Streaming API client with aio-sf-streaming's API, hardened for long runs.

Code written for aio-sf-streaming runs with only the import changed::

    from sfmonitor.streaming import SimpleSalesforceStreaming

    async with SimpleSalesforceStreaming(username=..., password=..., client_id=...,
                                         client_secret=..., login_url=...) as client:
        await client.subscribe("/event/Low_Ink__e")
        async for event in client.events():
            ...

Where things are: ``core`` (the public class: start, subscribe, the one pass over events),
``connectors``/``mixins``/``simple`` (the seed's composition), ``session`` (the engine: poll
loop and recovery) with ``phase`` (its lifecycle) and ``subscriptions``, ``bayeux`` (message
builders and reply readers, pure), ``batches`` (reply bodies to messages), ``transport`` and
``http`` (bounded HTTP), ``endpoints`` (where credentials may go), ``policy`` (retries,
backoff, login bound), ``state`` (what listeners are told), ``errors`` (one tree),
``replay`` and ``events`` (value types the store shares).
"""

from .connectors import (
    BaseConnector,
    PasswordSalesforceStreaming,
    RefreshTokenSalesforceStreaming,
    TokenSource,
    TokenSourceSalesforceStreaming,
)
from .core import BaseSalesforceStreaming
from .errors import (
    AuthenticationError,
    BayeuxError,
    ClientStateError,
    ConnectionFailedError,
    HttpStatusError,
    InsecureEndpointError,
    MalformedResponseError,
    MissingCredentialsError,
    RedirectRefusedError,
    ResponseTooLargeError,
    StreamingError,
    TransportError,
    UsageError,
    parse_error,
)
from .events import EventKind, StreamEvent
from .mixins import (
    AllMixin,
    AutoReconnectMixin,
    AutoVersionMixin,
    ReplayMixin,
    ReSubscribeMixin,
    TimeoutAdviceMixin,
)
from .replay import LiveSince, ReplayType, creation_time_of, replay_id_of
from .simple import SimpleRefreshTokenSalesforceStreaming, SimpleSalesforceStreaming
from .state import (
    ChannelChange,
    ChannelStatus,
    ConnectionState,
    GapNotice,
    Notice,
    StateChange,
)

__all__ = [
    "AllMixin",
    "AuthenticationError",
    "AutoReconnectMixin",
    "AutoVersionMixin",
    "BaseConnector",
    "BaseSalesforceStreaming",
    "BayeuxError",
    "ChannelChange",
    "ChannelStatus",
    "ClientStateError",
    "ConnectionFailedError",
    "ConnectionState",
    "EventKind",
    "GapNotice",
    "HttpStatusError",
    "InsecureEndpointError",
    "LiveSince",
    "MalformedResponseError",
    "MissingCredentialsError",
    "Notice",
    "PasswordSalesforceStreaming",
    "ReSubscribeMixin",
    "RedirectRefusedError",
    "RefreshTokenSalesforceStreaming",
    "ReplayMixin",
    "ReplayType",
    "ResponseTooLargeError",
    "SimpleRefreshTokenSalesforceStreaming",
    "SimpleSalesforceStreaming",
    "StateChange",
    "StreamEvent",
    "StreamingError",
    "TimeoutAdviceMixin",
    "TokenSource",
    "TokenSourceSalesforceStreaming",
    "TransportError",
    "UsageError",
    "creation_time_of",
    "parse_error",
    "replay_id_of",
]
