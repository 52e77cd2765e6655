"""The signed assertion of the OAuth 2.0 JWT bearer flow (RS256), and its key file.

Claims as Salesforce wants them: ``iss`` = consumer key, ``sub`` = username, ``aud`` = the
login URL (``https://login.salesforce.com``, ``https://test.salesforce.com`` or the org's
My Domain URL), ``exp`` = a few minutes ahead (Salesforce allows at most three).
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import LoginError
from .pkce import b64url

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 170.0  # seconds: under the three minutes Salesforce accepts


def load_private_key(path: str | Path, passphrase: bytes | None = None) -> rsa.RSAPrivateKey:
    """The RSA key of a PEM file; LoginError saying what is wrong with the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _key_error(f"cannot read the key file {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        raise _key_error(f"the key file {path} is encrypted: give its passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise _key_error(f"{path} is not a PEM private key (or the passphrase is wrong)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _key_error(f"{path} holds a {type(key).__name__}; Salesforce needs an RSA key")
    return key


def assertion(
    key: rsa.RSAPrivateKey,
    client_id: str,
    username: str,
    audience: str,
    lifetime: float = LIFETIME,
    now: float | None = None,
) -> str:
    """A compact JWS: base64url(header).base64url(claims).base64url(RS256 signature)."""
    issued = time.time() if now is None else now
    claims = {"iss": client_id, "sub": username, "aud": audience, "exp": int(issued + lifetime)}
    signing_input = (
        b64url(orjson.dumps({"alg": "RS256", "typ": "JWT"})) + "." + b64url(orjson.dumps(claims))
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def _key_error(text: str) -> LoginError:
    return LoginError("key_file", text, hint="Give the private key whose certificate the app has")
