"""Which addresses the client sends credentials and tokens to.

The password and client secret go to the login URL only; the access token goes to the
``instance_url`` the login returned, and only when that address is sensible:

- **https**, always. Plain http is accepted only when the login URL itself is plain http on
  a loopback address (the emulator, a local test server); then the instance must be on
  loopback too. An https login never hands over to http, and a plain-http login URL
  elsewhere is refused before anything is sent.
- **a host Salesforce serves orgs from**: a name under one of ``SALESFORCE_DOMAINS``
  (``acme.my.salesforce.com``, ``acme--uat.sandbox.my.salesforce.com``,
  ``na123.salesforce.com``, ``acme.lightning.force.com``, ``acme.my.salesforce.mil`` for
  Government Cloud Plus, ``acme.my.sfcrmproducts.cn`` for Salesforce on Alibaba Cloud, ...),
  or exactly the login URL's own host (a My Domain login, a reverse proxy that is its own
  instance), or a host the user trusts (``trusted_hosts``: exact names, or ``.example.com``
  for every name under a domain; for self-hosted proxies and gateways).

Salesforce's My Domain login URLs are ``<name>.my.salesforce.com`` "with a couple of rare
exceptions" (Salesforce Help, *My Domain URL Formats*); the exceptions are the government
and Alibaba Cloud suffixes above. Older orgs use instanced hosts (``na1.salesforce.com``)
and the legacy ``cloudforce.com`` / ``database.com`` domains, which are kept.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from yarl import URL

from .errors import InsecureEndpointError

SALESFORCE_DOMAINS = (
    "salesforce.com",
    "force.com",
    "salesforce.mil",
    "sfcrmproducts.cn",
    "sfcrmapps.cn",
    "cloudforce.com",
    "database.com",
)


def is_loopback(host: str | None) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_matches(host: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        pattern = pattern.strip().lower().rstrip(".")
        if not pattern:
            continue
        if pattern.startswith("."):
            if host.endswith(pattern) or host == pattern[1:]:
                return True
        elif host == pattern:
            return True
    return False


def _parse(url: str, what: str) -> URL:
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        raise InsecureEndpointError(f"{what} is not a URL") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise InsecureEndpointError(f"{what} must be an https:// address")
    if parsed.user is not None or parsed.password is not None:
        raise InsecureEndpointError(f"{what} must not carry a user name or password")
    return parsed


def check_login_url(login_url: str) -> None:
    """Refuse a login URL that would send credentials in clear (http off loopback)."""
    parsed = _parse(login_url, "the login URL")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise InsecureEndpointError(
            f"the login URL {login_url!r} is plain http: credentials would travel in clear "
            "(use https://; plain http is accepted only on loopback, e.g. the emulator)"
        )


def check_instance_url(instance_url: str, login_url: str, trusted_hosts: Iterable[str] = ()) -> str:
    """The ``instance_url`` a login returned, if the token may be sent there; else raise
    ``InsecureEndpointError`` saying why (the token was sent nowhere yet)."""
    login = _parse(login_url, "the login URL")
    parsed = _parse(instance_url, f"the instance_url {instance_url[:200]!r} from the login")
    host = (parsed.host or "").rstrip(".").lower()
    shown = f"{parsed.scheme}://{host}"
    if parsed.query_string or parsed.fragment:
        raise InsecureEndpointError(f"the instance_url {shown} from the login has a query")
    if login.scheme == "http":
        # the login URL is plain http on loopback (check_login_url): stay on loopback
        if not is_loopback(host):
            raise InsecureEndpointError(
                f"the login at {login.host} (plain http, loopback) returned the instance_url "
                f"{shown}, which is not on loopback; the access token is not sent there"
            )
        return str(parsed).rstrip("/")
    if parsed.scheme != "https":
        raise InsecureEndpointError(
            f"the https login returned the plain-http instance_url {shown}; the access token "
            "would travel in clear and is not sent there"
        )
    login_host = (login.host or "").rstrip(".").lower()
    if (
        host == login_host
        or _host_matches(host, ["." + d for d in SALESFORCE_DOMAINS])
        or _host_matches(host, trusted_hosts)
    ):
        return str(parsed).rstrip("/")
    raise InsecureEndpointError(
        f"the login returned the instance_url {shown}, which is not a Salesforce host "
        f"({', '.join('*.' + d for d in SALESFORCE_DOMAINS[:3])}, ...) nor the login host; "
        "the access token is not sent there (add the host to trusted_hosts if it is yours, "
        "e.g. a proxy)"
    )
