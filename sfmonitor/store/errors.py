"""Every error the store raises, under one base. Messages say what to do, never a secret.

    StoreError                          catch this to catch everything the store raises
    ├── DataDirError                    the data folder cannot be used (a file, no access)
    │   └── DataDirReadOnlyError        it can be read, not written: read-only commands work
    ├── StoreLockedError                another sfmonitor writes to this folder
    ├── SchemaTooNewError               the file was written by a newer sfmonitor
    ├── StoreDamagedError               the file is damaged: ``sfmonitor doctor``
    │     (+ sqlite3.DatabaseError)
    ├── ReadOnlyStoreError              a write to a store opened read-only
    ├── KeyringUnavailableError         no usable OS keyring for the secrets
    ├── FilterError (+ ValueError)      a filter that does not parse (``position``)
    ├── ImportFormatError (+ ValueError) a file that is not an sfmonitor export
    └── ExportCancelled                 the user cancelled an export; nothing was written

The extra built-in bases keep ``except ValueError`` / ``except sqlite3.DatabaseError``
working where callers (and SQLite's own errors) expect them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(Exception):
    """Base class of every error raised by ``sfmonitor.store``."""


class DataDirError(StoreError):
    """The data folder cannot be used; the message says why and what to do."""


class DataDirReadOnlyError(DataDirError):
    """The data folder can be read but not written (a read-only file system, no
    permission): read-only commands still work."""


class StoreLockedError(StoreError):
    """Another sfmonitor process writes to this data folder."""

    def __init__(self, folder: Path, holder: str) -> None:
        self.folder = folder
        self.holder = holder
        super().__init__(
            f"The data folder {folder} is in use by another sfmonitor ({holder}). "
            "Close that one, use another --data-dir, or open this one read-only."
        )


class SchemaTooNewError(StoreError):
    """The database was written by a newer sfmonitor."""


class StoreDamagedError(StoreError, sqlite3.DatabaseError):
    """The capture file is damaged; the message says what to do."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(
            f"{path} is damaged ({detail}); nothing more is written to it. Run "
            "'sfmonitor doctor' to check it, and 'sfmonitor doctor --recover' to save what "
            "is readable into a new file (the damaged one is kept)"
        )


class ReadOnlyStoreError(StoreError):
    """A write was attempted on a store opened read-only."""


class KeyringUnavailableError(StoreError):
    """No OS keyring could be used; the message says why and what to install."""


class FilterError(StoreError, ValueError):
    """A filter that cannot be parsed; ``position`` is the offending character."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


class ImportFormatError(StoreError, ValueError):
    """The file is not an sfmonitor export; the message says where and why."""


class ExportCancelled(StoreError):
    """The caller cancelled; nothing was written under the target name."""
