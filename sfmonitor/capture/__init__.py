"""The one package that joins a streaming client to the store: a running ``Capture``, its
replay book and client (``clients``), the store writer (``writer``), the sinks it
forwards to (``forwarding``) and the demo
(``demo``, which starts the emulator: import it only when the demo is asked for).
No Qt here; the window and the headless command both use it."""

from .clients import ReplayBook, make_client, policy_replay
from .forwarding import Forwarding, SinkPlan, merge_plans, run_sink_plans, saved_sink_plans
from .pipeline import Capture, CaptureError, CaptureStats
from .rest import RestAccess, RestCredentials, profile_credentials
from .writer import StoreWriteError, StoreWriter

__all__ = [
    "Capture",
    "CaptureError",
    "CaptureStats",
    "Forwarding",
    "ReplayBook",
    "RestAccess",
    "RestCredentials",
    "SinkPlan",
    "StoreWriteError",
    "StoreWriter",
    "make_client",
    "merge_plans",
    "policy_replay",
    "profile_credentials",
    "run_sink_plans",
    "saved_sink_plans",
]
