"""Profile secrets in the OS keyring (service ``sfmonitor``, one entry per profile).

An entry is named by the capture file's own random id and the profile's name
(``profile:<file id>:<name>``), so two data folders each with a profile "Shared" keep
two entries, and removing one leaves the other. Entries of earlier versions
(``profile:<name>``) move to the new name when first read: copied, read back, and only
then deleted.

Secrets are the password (with the security token appended where the org needs one), the
connected app's client secret and the refresh token (a browser login's, or a legacy one).
Access tokens are never stored; neither is anything of the Salesforce CLI's own login
(``sf-cli`` profiles ask ``sf`` at each connect), and a JWT profile's private key stays in
its file (the profile keeps its path).
A sink's password (Kafka SASL, PostgreSQL) has an entry of its own, named by the file id,
the profile's id (it survives a rename) and the sink's destination
(``sink:<file id>:<profile id>:<sink id>``).
Without a usable keyring the vault raises ``KeyringUnavailableError`` saying what to
install; the caller may then choose ``session_only=True``, which keeps secrets in memory
until the process exits. There is no plain-text fallback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import keyring
import keyring.errors
import orjson
from keyring.backends.chainer import ChainerBackend

from .errors import KeyringUnavailableError

log = logging.getLogger(__name__)

SERVICE = "sfmonitor"
INSTALL_HINT = (
    "Install and unlock an OS keyring: on Linux a Secret Service such as GNOME Keyring "
    "(gnome-keyring) or KWallet; macOS Keychain and Windows Credential Locker work as they "
    "are. Or keep the secrets for this session only."
)


@dataclass(frozen=True)
class Secrets:
    """A profile's secrets. They never appear in ``repr`` or in error messages."""

    password: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)

    def to_json(self) -> str:
        return orjson.dumps(
            {k: v for k, v in vars_of(self).items() if v}, option=orjson.OPT_SORT_KEYS
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> Secrets:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise KeyringUnavailableError(
                "the keyring entry of this profile is not one sfmonitor wrote; "
                "enter the profile's secrets again"
            )
        return cls(
            **{k: str(data[k]) for k in ("password", "client_secret", "refresh_token") if k in data}
        )

    def values(self) -> list[str]:
        """Every non-empty secret (for scrubbing text before it is shown or logged)."""
        return [v for v in vars_of(self).values() if v]


def vars_of(secrets: Secrets) -> dict[str, str]:
    return {
        "password": secrets.password,
        "client_secret": secrets.client_secret,
        "refresh_token": secrets.refresh_token,
    }


def _legacy_entry(profile_name: str) -> str:
    return f"profile:{profile_name}"


_default_scope: str | None = None


def set_default_scope(scope: str | None) -> None:
    """The scope of vaults made without one: the capture file opened last (a process
    works on one data folder; ``CaptureStore.open`` calls this)."""
    global _default_scope
    _default_scope = scope


def clear_default_scope(scope: str | None) -> None:
    """That file was closed: vaults made without a scope no longer use it."""
    global _default_scope
    if scope is not None and _default_scope == scope:
        _default_scope = None


class _Default:
    pass


DEFAULT = _Default()


def keyring_name() -> str:
    """The active keyring backend, for messages ("Secret Service", "fail" ...)."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # keyring raises RuntimeError when a forced backend cannot start
        return f"unavailable ({type(exc).__name__})"
    return f"{type(backend).__module__}.{type(backend).__name__}"


class CredentialVault:
    """Reads and writes profile secrets; ``session_only`` keeps them in memory instead."""

    def __init__(self, session_only: bool = False, scope: str | _Default | None = DEFAULT) -> None:
        """``scope`` names the capture file whose profiles these are
        (``CaptureStore.vault_scope``); by default the file opened last. None: the
        entries of earlier versions, named by the profile alone."""
        self.session_only = session_only
        self._scope = scope
        self._memory: dict[str, Secrets] = {}
        self._sink_memory: dict[str, str] = {}

    @property
    def scope(self) -> str | None:
        return _default_scope if isinstance(self._scope, _Default) else self._scope

    def _entry(self, profile_name: str) -> str:
        scope = self.scope
        if scope is None:
            return _legacy_entry(profile_name)
        return f"profile:{scope}:{profile_name}"

    def _fail(self, exc: BaseException) -> KeyringUnavailableError:
        # The keyring's own message may quote what was being stored: never pass it on.
        return KeyringUnavailableError(
            f"The OS keyring is not available (backend {keyring_name()}: "
            f"{type(exc).__name__}). {INSTALL_HINT}"
        )

    def _backend(self) -> None:
        """Refuse the backends that store nothing (``null``, a chain of no backend) or
        always fail."""
        backend = keyring.get_keyring()
        name = type(backend).__module__
        if name in ("keyring.backends.null", "keyring.backends.fail"):
            raise keyring.errors.NoKeyringError(name)
        if isinstance(backend, ChainerBackend) and not backend.backends:
            raise keyring.errors.NoKeyringError("an empty chain of keyrings")

    def save(self, profile_name: str, secrets: Secrets) -> None:
        """Store the secrets and read them back: a keyring that accepts and forgets them
        is an error, never a "saved"."""
        if self.session_only:
            self._memory[profile_name] = secrets
            return
        self._write(self._entry(profile_name), secrets.to_json())
        self._memory.pop(profile_name, None)

    def _write(self, entry: str, text: str) -> None:
        try:
            self._backend()
            keyring.set_password(SERVICE, entry, text)
            back = keyring.get_password(SERVICE, entry)
        except Exception as exc:
            raise self._fail(exc) from None
        if back != text:
            raise KeyringUnavailableError(
                f"The OS keyring (backend {keyring_name()}) did not keep the secrets: "
                f"reading them back gave {'nothing' if back is None else 'something else'}. "
                f"Nothing is stored. {INSTALL_HINT}"
            )

    def update(self, profile_name: str, secrets: Secrets) -> None:
        """Replace a profile's secrets where they are kept now: in memory when they were
        given for this session only, else in the keyring (a rotated refresh token)."""
        if self.session_only or profile_name in self._memory:
            self._memory[profile_name] = secrets
        else:
            self.save(profile_name, secrets)

    def remember(self, profile_name: str, secrets: Secrets) -> None:
        """Keep a profile's secrets in memory only, until the process exits."""
        self._memory[profile_name] = secrets

    def load(self, profile_name: str) -> Secrets | None:
        """The profile's secrets, or None if none were saved."""
        if profile_name in self._memory:
            return self._memory[profile_name]
        if self.session_only:
            return None
        entry = self._entry(profile_name)
        try:
            text = keyring.get_password(SERVICE, entry)
            if text is None and entry != _legacy_entry(profile_name):
                text = keyring.get_password(SERVICE, _legacy_entry(profile_name))
                if text is not None:
                    self._migrate(profile_name, text)
        except KeyringUnavailableError:
            raise
        except Exception as exc:
            raise self._fail(exc) from None
        return None if text is None else Secrets.from_json(text)

    def _migrate(self, profile_name: str, text: str) -> None:
        """Move an entry of an earlier version to this file's name for it; the old one
        is deleted only once the new one reads back the same (a failure keeps it)."""
        try:
            self._write(self._entry(profile_name), text)
            keyring.delete_password(SERVICE, _legacy_entry(profile_name))
        except Exception as exc:  # still readable under the old name: try again next time
            log.warning("keyring: could not move the entry of a profile (%s)", type(exc).__name__)

    def delete(self, profile_name: str) -> None:
        """Forget the profile's secrets: its entry, or, if it never got one, the entry
        of an earlier version it still used."""
        self._memory.pop(profile_name, None)
        if self.session_only:
            return
        entry = self._entry(profile_name)
        try:
            if not self._delete(entry) and entry != _legacy_entry(profile_name):
                self._delete(_legacy_entry(profile_name))
        except Exception as exc:
            raise self._fail(exc) from None

    @staticmethod
    def _delete(entry: str) -> bool:
        """Delete an entry; False if there was none."""
        if keyring.get_password(SERVICE, entry) is None:
            return False
        try:
            keyring.delete_password(SERVICE, entry)
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    # --- sink passwords ----------------------------------------------------------------

    def _sink_entry(self, profile_id: int, sink_id: str) -> str:
        return f"sink:{self.scope or ''}:{profile_id}:{sink_id}"

    def save_sink_secret(self, profile_id: int, sink_id: str, password: str) -> None:
        """Keep a sink's password (read back, like a profile's secrets)."""
        entry = self._sink_entry(profile_id, sink_id)
        if self.session_only:
            self._sink_memory[entry] = password
            return
        self._write(entry, password)
        self._sink_memory.pop(entry, None)

    def load_sink_secret(self, profile_id: int, sink_id: str) -> str | None:
        entry = self._sink_entry(profile_id, sink_id)
        if entry in self._sink_memory or self.session_only:
            return self._sink_memory.get(entry)
        try:
            return keyring.get_password(SERVICE, entry)
        except Exception as exc:
            raise self._fail(exc) from None

    def delete_sink_secret(self, profile_id: int, sink_id: str) -> None:
        entry = self._sink_entry(profile_id, sink_id)
        self._sink_memory.pop(entry, None)
        if self.session_only:
            return
        try:
            self._delete(entry)
        except Exception as exc:
            raise self._fail(exc) from None

    def check(self) -> None:
        """Raise KeyringUnavailableError now if the keyring cannot be used."""
        if self.session_only:
            return
        try:
            self._backend()
            keyring.get_password(SERVICE, "__sfmonitor_probe__")
        except Exception as exc:
            raise self._fail(exc) from None
