"""Durable capture: the SQLite store, profile secrets in the keyring, export and import.
No Qt and no client here (``sfmonitor.capture`` joins a client to the store)."""

from . import doctor
from .captures import CaptureStore
from .compiled import CompiledQuery
from .credentials import CredentialVault, Secrets
from .errors import (
    DataDirError,
    ExportCancelled,
    FilterError,
    ImportFormatError,
    KeyringUnavailableError,
    ReadOnlyStoreError,
    SchemaTooNewError,
    StoreDamagedError,
    StoreError,
    StoreLockedError,
)
from .export import export_events, import_capture
from .filters import parse
from .ingest import IngestResult
from .models import (
    AuthKind,
    Environment,
    EventQuery,
    EventRow,
    Gap,
    OrgInfo,
    Profile,
    ReplayState,
    Subscription,
)
from .paths import data_dir

__all__ = [
    "AuthKind",
    "CaptureStore",
    "CompiledQuery",
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
    "OrgInfo",
    "Profile",
    "ReadOnlyStoreError",
    "ReplayState",
    "SchemaTooNewError",
    "Secrets",
    "StoreDamagedError",
    "StoreError",
    "StoreLockedError",
    "Subscription",
    "data_dir",
    "doctor",
    "export_events",
    "import_capture",
    "parse",
]
