"""Profile secrets in the OS keyring (service ``sfmonitor``, one entry per profile).

Secrets are the password (with the security token appended where the org needs one), the
connected app's client secret and the refresh token. Access tokens are never stored.
Without a usable keyring the vault raises ``KeyringUnavailableError`` saying what to
install; the caller may then choose ``session_only=True``, which keeps secrets in memory
until the process exits. There is no plain-text fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keyring
import keyring.errors
import orjson

SERVICE = "sfmonitor"
INSTALL_HINT = (
    "Install and unlock an OS keyring: on Linux a Secret Service such as GNOME Keyring "
    "(gnome-keyring) or KWallet; macOS Keychain and Windows Credential Locker work as they "
    "are. Or keep the secrets for this session only."
)


class KeyringUnavailableError(RuntimeError):
    """No OS keyring could be used; the message says why and what to install."""


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


def _entry(profile_name: str) -> str:
    return f"profile:{profile_name}"


def keyring_name() -> str:
    """The active keyring backend, for messages ("Secret Service", "fail" ...)."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # keyring raises RuntimeError when a forced backend cannot start
        return f"unavailable ({type(exc).__name__})"
    return f"{type(backend).__module__}.{type(backend).__name__}"


class CredentialVault:
    """Reads and writes profile secrets; ``session_only`` keeps them in memory instead."""

    def __init__(self, session_only: bool = False) -> None:
        self.session_only = session_only
        self._memory: dict[str, Secrets] = {}

    def _fail(self, exc: BaseException) -> KeyringUnavailableError:
        # The keyring's own message may quote what was being stored: never pass it on.
        return KeyringUnavailableError(
            f"The OS keyring is not available (backend {keyring_name()}: "
            f"{type(exc).__name__}). {INSTALL_HINT}"
        )

    def _backend(self) -> None:
        """Refuse the backends that store nothing (``null``) or always fail."""
        backend = keyring.get_keyring()
        name = type(backend).__module__
        if name in ("keyring.backends.null", "keyring.backends.fail"):
            raise keyring.errors.NoKeyringError(name)

    def save(self, profile_name: str, secrets: Secrets) -> None:
        if self.session_only:
            self._memory[profile_name] = secrets
            return
        try:
            self._backend()
            keyring.set_password(SERVICE, _entry(profile_name), secrets.to_json())
        except Exception as exc:
            raise self._fail(exc) from None
        self._memory.pop(profile_name, None)

    def remember(self, profile_name: str, secrets: Secrets) -> None:
        """Keep a profile's secrets in memory only, until the process exits."""
        self._memory[profile_name] = secrets

    def load(self, profile_name: str) -> Secrets | None:
        """The profile's secrets, or None if none were saved."""
        if profile_name in self._memory:
            return self._memory[profile_name]
        if self.session_only:
            return None
        try:
            text = keyring.get_password(SERVICE, _entry(profile_name))
        except Exception as exc:
            raise self._fail(exc) from None
        return None if text is None else Secrets.from_json(text)

    def delete(self, profile_name: str) -> None:
        self._memory.pop(profile_name, None)
        if self.session_only:
            return
        try:
            keyring.delete_password(SERVICE, _entry(profile_name))
        except keyring.errors.PasswordDeleteError:
            pass  # nothing was stored
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
