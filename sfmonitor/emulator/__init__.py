"""An emulator of the Salesforce Streaming API (CometD/Bayeux long-polling, OAuth, REST).

It speaks the wire protocol closely enough for unmodified third-party clients, and injects
on demand the faults that break streaming clients in the field. No Qt is imported here.
"""

from .channels import ChannelKind
from .clock import Clock
from .config import (
    DEFAULT_CALLBACK_URL,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    ConnectedApp,
    EmulatorConfig,
    User,
)
from .org import Org
from .scenarios import DEMO_CHANNELS, Scenario
from .server import Emulator

__all__ = [
    "DEFAULT_CALLBACK_URL",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_PASSWORD",
    "DEFAULT_REFRESH_TOKEN",
    "DEFAULT_USERNAME",
    "DEMO_CHANNELS",
    "ChannelKind",
    "Clock",
    "ConnectedApp",
    "Emulator",
    "EmulatorConfig",
    "Org",
    "Scenario",
    "User",
]
