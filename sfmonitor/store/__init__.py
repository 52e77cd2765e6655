"""Durable capture: the SQLite store, profile secrets in the keyring, export and import,
and the capture pipeline that joins a streaming client to the store. No Qt here."""

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
from .pipeline import Capture, ReplayBook
from .schema import SchemaTooNewError
from .writer import StoreWriteError, StoreWriter

__all__ = [
    "AuthKind",
    "Capture",
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
    "ReplayBook",
    "ReplayState",
    "SchemaTooNewError",
    "Secrets",
    "StoreDamagedError",
    "StoreLockedError",
    "StoreWriteError",
    "StoreWriter",
    "Subscription",
    "data_dir",
    "doctor",
    "export_events",
    "import_capture",
    "parse",
]
