"""Client of Salesforce's Pub/Sub API (gRPC, Avro): no Qt, no store.

tokens = CallbackTokens(Credentials(access_token, instance_url, org_id), refresh=...)
async with PubSubConnection(tokens) as conn:
    conn.subscribe("/data/AccountChangeEvent", listener, ReplayFrom.earliest())
    await conn.publish("/event/Low_Ink__e", [{"Ink_Percentage__c": 0.2}])
"""

from .bitmaps import field_names
from .connection import DEFAULT_ENDPOINT, PublishOutcome, PubSubConnection
from .errors import PubSubError, Reaction, reaction_of
from .events import PubSubEvent
from .listeners import EventQueue
from .replay import Preset, ReplayFrom, encode_replay, replay_sort_key, replay_value, show_replay
from .schemas import MemorySchemaStore, Schema, SchemaStore
from .subscription import SubscribeSettings, SubscriptionListener, TopicSubscription
from .tokens import CallbackTokens, Credentials, TokenSource

__all__ = [
    "DEFAULT_ENDPOINT",
    "CallbackTokens",
    "Credentials",
    "EventQueue",
    "MemorySchemaStore",
    "Preset",
    "PubSubConnection",
    "PubSubError",
    "PubSubEvent",
    "PublishOutcome",
    "Reaction",
    "ReplayFrom",
    "Schema",
    "SchemaStore",
    "SubscribeSettings",
    "SubscriptionListener",
    "TokenSource",
    "TopicSubscription",
    "encode_replay",
    "field_names",
    "reaction_of",
    "replay_sort_key",
    "replay_value",
    "show_replay",
]
