"""Salesforce-looking identifiers: 18-character record ids, client ids, tokens."""

from __future__ import annotations

import itertools
import secrets
import string

_ALNUM = string.ascii_letters + string.digits
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE36 = string.digits + string.ascii_lowercase

# Key prefixes of the objects the emulator knows (Salesforce's own values).
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Lead": "00Q",
    "Case": "500",
    "User": "005",
    "Organization": "00D",
    "PushTopic": "0IF",
    "StreamingChannel": "0M6",
}


def checksum_suffix(id15: str) -> str:
    """The 3-character case-safety suffix that turns a 15-character id into 18."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def to18(id15: str) -> str:
    """Extend a 15-character Salesforce id with its checksum."""
    if len(id15) != 15:
        raise ValueError(f"expected a 15-character id, got {id15!r}")
    return id15 + checksum_suffix(id15)


def is_salesforce_id(value: str) -> bool:
    """True for a well-formed 15- or 18-character id (checksum verified for 18)."""
    if len(value) not in (15, 18) or not value.isalnum() or not value.isascii():
        return False
    return len(value) == 15 or to18(value[:15]) == value


class IdFactory:
    """Makes unique record ids per key prefix, like ``001XX0000012abcDEF``.

    The pod part ("XX") and counter keep ids unique within one emulator; they are not
    contiguous-looking on purpose (base-36 counter mixed with a random server part).
    """

    def __init__(self, pod: str = "Dn") -> None:
        self._pod = pod
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        n = next(self._counter)
        body = ""
        while n:
            n, r = divmod(n, 36)
            body = _BASE36[r] + body
        body = body.rjust(7, "0")
        rand = "".join(secrets.choice(_ALNUM) for _ in range(3))
        return to18(f"{prefix}{self._pod}{rand}{body}"[:15])

    def for_object(self, sobject: str) -> str:
        """A new id for a record of ``sobject`` (custom objects share a00)."""
        return self.new(KEY_PREFIXES.get(sobject, "a00"))


def client_id() -> str:
    """A CometD client id as Salesforce issues them (lower-case base-36, ~30 chars)."""
    return "".join(secrets.choice(_BASE36) for _ in range(29))


def opaque_token(n: int = 32) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))
