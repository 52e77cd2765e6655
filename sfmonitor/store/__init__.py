"""Durable capture: the SQLite store, profile secrets in the keyring, export and import.
No Qt and no client here (``sfmonitor.capture`` joins a client to the store)."""

from . import doctor
from .captures import CaptureStore, ReadOnlyStoreError
from .credentials import CredentialVault, KeyringUnavailableError, Secrets
from .export import ExportCancelled, ImportFormatError, export_events, import_capture
from .filters import FilterError, parse
from .health import StoreDamagedError
from .ingest import IngestResult
from .lock import StoreLockedError
from .models import (
    AuthKind,
    Environment,
    EventQuery,
    EventRow,
    Gap,
    Profile,
    ReplayState,
    Subscription,
)
from .paths import DataDirError, data_dir
from .schema import SchemaTooNewError

__all__ = [
    "AuthKind",
    "CaptureStore",
    "CredentialVault",
    "DataDirError",
    "Environment",
    "EventQuery",
    "EventRow",
    "ExportCancelled",
    "FilterError",
    "Gap",
    "ImportFormatError",
    "IngestResult",
    "KeyringUnavailableError",
    "Profile",
    "ReadOnlyStoreError",
    "ReplayState",
    "SchemaTooNewError",
    "Secrets",
    "StoreDamagedError",
    "StoreLockedError",
    "Subscription",
    "data_dir",
    "doctor",
    "export_events",
    "import_capture",
    "parse",
]
