"""Durable capture: the SQLite store, profile secrets in the keyring, export and import,
and the capture pipeline that joins a streaming client to the store. No Qt here."""

from .captures import CaptureStore, ReadOnlyStoreError
from .credentials import CredentialVault, KeyringUnavailableError, Secrets
from .export import ExportCancelled, ImportFormatError, export_events, import_capture
from .filters import FilterError, parse
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
from .paths import data_dir
from .pipeline import Capture, ReplayBook, StoreWriteError, StoreWriter
from .schema import SchemaTooNewError

__all__ = [
    "AuthKind",
    "Capture",
    "CaptureStore",
    "CredentialVault",
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
    "ReplayBook",
    "ReplayState",
    "SchemaTooNewError",
    "Secrets",
    "StoreLockedError",
    "StoreWriteError",
    "StoreWriter",
    "Subscription",
    "data_dir",
    "export_events",
    "import_capture",
    "parse",
]
