"""The JWT bearer grant's check: an RS256 assertion signed with the key whose certificate
the app holds (``ConnectedApp.certificate``), for a user the app pre-authorizes.

Refusals use the descriptions Salesforce sends: ``invalid assertion`` (signature, format),
``Audience validation failed``, ``expired authorization code`` (an ``exp`` in the past: that
is what real orgs answer), ``user hasn't approved this consumer``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .config import ConnectedApp
from .org import Org


class Refusal(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def public_key_of(pem: str) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM certificate or public key."""
    data = pem.encode()
    key: Any
    try:
        key = x509.load_pem_x509_certificate(data).public_key()
    except ValueError:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate does not hold an RSA key")
    return key


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_assertion(org: Org, assertion: str, audiences: set[str]) -> tuple[ConnectedApp, str]:
    """The app and the username an assertion logs in; Refusal otherwise."""
    invalid = Refusal("invalid_grant", "invalid assertion")
    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header = orjson.loads(_b64(header_b64))
        claims = orjson.loads(_b64(claims_b64))
        signature = _b64(signature_b64)
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise invalid from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise invalid
    app = org.apps.get(str(claims.get("iss", "")))
    if app is None:
        raise Refusal("invalid_client_id", "client identifier invalid")
    if header.get("alg") != "RS256" or not app.certificate:
        raise invalid
    try:
        public_key_of(app.certificate).verify(
            signature,
            f"{header_b64}.{claims_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        raise invalid from None
    if str(claims.get("aud", "")).rstrip("/") not in audiences:
        raise Refusal("invalid_grant", "Audience validation failed")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < org.clock.now():
        raise Refusal("invalid_grant", "expired authorization code")
    username = str(claims.get("sub", ""))
    if username not in org.users or (app.jwt_users is not None and username not in app.jwt_users):
        raise Refusal("invalid_grant", "user hasn't approved this consumer")
    return app, username
