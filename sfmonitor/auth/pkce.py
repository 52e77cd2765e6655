"""PKCE (RFC 7636, method S256) and the ``state`` value of a browser login.

The verifier proves at the code exchange that this process started the login: an
authorization code intercepted on its way to the loopback port is useless without it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field

VERIFIER_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5), as PKCE and JWT want it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def challenge_of(verifier: str) -> str:
    """``code_challenge`` for a verifier: base64url(SHA-256(verifier))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class Pkce:
    """A fresh verifier (96 characters of the unreserved alphabet), its challenge and a
    ``state``. Never shown in reprs: the verifier is a secret until the exchange is done."""

    verifier: str = field(repr=False, default_factory=lambda: secrets.token_urlsafe(72)[:96])
    state: str = field(repr=False, default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def challenge(self) -> str:
        return challenge_of(self.verifier)

    method = "S256"
