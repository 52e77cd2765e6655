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

The names below load on first use (PEP 562): the store can take the event value types
(``sfmonitor.streaming.events``) without loading the client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "AllMixin": "mixins",
    "AuthenticationError": "errors",
    "AutoReconnectMixin": "mixins",
    "AutoVersionMixin": "mixins",
    "BaseConnector": "connectors",
    "BaseSalesforceStreaming": "core",
    "BayeuxError": "errors",
    "ChannelChange": "state",
    "ChannelStatus": "state",
    "ClientStateError": "errors",
    "ConnectionFailedError": "errors",
    "ConnectionState": "state",
    "EventKind": "events",
    "GapNotice": "state",
    "HttpStatusError": "errors",
    "InsecureEndpointError": "errors",
    "LiveSince": "replay",
    "MalformedResponseError": "errors",
    "MissingCredentialsError": "errors",
    "Notice": "state",
    "PasswordSalesforceStreaming": "connectors",
    "ReSubscribeMixin": "mixins",
    "RedirectRefusedError": "errors",
    "RefreshTokenSalesforceStreaming": "connectors",
    "ReplayMixin": "mixins",
    "ReplayType": "replay",
    "ResponseTooLargeError": "errors",
    "SimpleRefreshTokenSalesforceStreaming": "simple",
    "SimpleSalesforceStreaming": "simple",
    "StateChange": "state",
    "StreamEvent": "events",
    "StreamingError": "errors",
    "TimeoutAdviceMixin": "mixins",
    "TokenSource": "connectors",
    "TokenSourceSalesforceStreaming": "connectors",
    "TransportError": "errors",
    "UsageError": "errors",
    "creation_time_of": "replay",
    "parse_error": "errors",
    "replay_id_of": "replay",
}
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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
