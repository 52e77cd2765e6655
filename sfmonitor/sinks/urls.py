"""Sink URLs: ``kafka://``, ``postgresql://`` and ``ndjson:`` parsed into plain specs.

A URL names where events go and how; it never carries a secret once saved. A password
given in a URL (``kafka://user:pw@…``, ``postgresql://user:pw@…`` or ``?password=``) is
split off by ``split_secret`` for the keyring; ``SinkSpec.url`` is the URL without it, the
text a profile keeps and messages show. Every error message shows the URL with the
password masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import (
    SplitResult,
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urlsplit,
    urlunsplit,
)

DEFAULT_TOPIC = "sf.{org}.{channel}"
DEFAULT_TABLE = "sf_events"
KAFKA_SECURITY = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
KAFKA_COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
KAFKA_KEYS = ("channel", "record")
# libpq parameters passed on to the server connection (secrets are never among them)
PG_PARAMS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
)
_TOPIC_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USERINFO_PASSWORD = re.compile(r"(//[^/?#@:]*:)[^/?#]*@")
_QUERY_PASSWORD = re.compile(r"(?i)((?:^|[?&])password=)[^&#]*")
MAX_TOPIC = 249  # Kafka's limit on a topic name
MAX_TABLE = 55  # PostgreSQL's 63 minus the longest index suffix this sink adds


class SinkUrlError(ValueError):
    """A sink URL that cannot be used; the message says why (never with its password)."""


@dataclass(frozen=True)
class KafkaSpec:
    """Where and how to produce to Kafka. ``topic`` may hold ``{org}`` and ``{channel}``."""

    servers: tuple[str, ...]
    topic: str = DEFAULT_TOPIC
    acks: str = "all"  # all | 1 (0 would give the forwarder nothing to wait for)
    compression: str = "none"
    key: str = "channel"  # channel: org|channel; record: the CDC record id
    security: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    cafile: str | None = None
    linger_ms: int = 5
    max_request_size: int = 1 << 20
    timeout_s: float = 30.0

    @property
    def needs_secret(self) -> bool:
        return self.security.startswith("SASL_")

    @property
    def sink_id(self) -> str:
        """The destination (brokers and topic): the name of this sink's cursor."""
        return f"kafka://{','.join(self.servers)}/{self.topic}"

    @property
    def url(self) -> str:
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        options = {
            "acks": (self.acks, "all"),
            "compression": (self.compression, "none"),
            "key": (self.key, "channel"),
            "security": (self.security, "PLAINTEXT"),
            "sasl": (self.sasl_mechanism if self.needs_secret else "", ""),
            "cafile": (self.cafile or "", ""),
            "linger_ms": (str(self.linger_ms), "5"),
            "max_request_size": (str(self.max_request_size), str(1 << 20)),
            "timeout": (_number(self.timeout_s), "30"),
        }
        query = urlencode({k: v for k, (v, default) in options.items() if v != default}, safe="/")
        return f"kafka://{user}{','.join(self.servers)}/{self.topic}" + (
            f"?{query}" if query else ""
        )

    def topic_for(self, org_id: str, channel: str) -> str:
        return self.topic.format(org=org_id, channel=channel_slug(channel))


@dataclass(frozen=True)
class PostgresSpec:
    """A PostgreSQL database and the table the events go to (``schema.table`` allowed)."""

    host: str
    port: int | None
    database: str
    user: str | None
    table: str = DEFAULT_TABLE
    params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def needs_secret(self) -> bool:
        return True  # the keyring may hold none: then libpq's own ways apply (.pgpass)

    @property
    def dsn(self) -> str:
        """The connection URL without the table option and without any password."""
        user = quote(self.user, safe="") + "@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = urlencode(self.params, safe="/")
        return f"postgresql://{user}{host}{port}/{quote(self.database, safe='')}" + (
            f"?{query}" if query else ""
        )

    @property
    def sink_id(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{self.host}{port}/{self.database}?table={self.table}"

    @property
    def url(self) -> str:
        query = urlencode((("table", self.table), *self.params), safe="/")
        return self.dsn.split("?", 1)[0] + f"?{query}"


@dataclass(frozen=True)
class NdjsonSpec:
    """An NDJSON file (absolute path), or standard output when ``path`` is None."""

    path: Path | None

    @property
    def needs_secret(self) -> bool:
        return False

    @property
    def sink_id(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return "ndjson:-" if self.path is None else f"ndjson://{quote(str(self.path))}"


SinkSpec = KafkaSpec | PostgresSpec | NdjsonSpec


def channel_slug(channel: str) -> str:
    """A channel as part of a Kafka topic name: ``/event/Order__e`` -> ``event.Order__e``."""
    return _TOPIC_CHARS.sub("_", channel.strip("/").replace("/", "."))


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


# --- secrets -------------------------------------------------------------------------------


def split_secret(url: str) -> tuple[str, str | None]:
    """The URL without its password, and the password (None if it had none).

    Looks at the user-info part (``user:password@``) and a ``password`` query option. The
    returned URL is safe to save on a profile; the password belongs in the keyring.
    """
    parts = _split(url)
    secret: str | None = None
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if colon:
            secret = unquote(password)
            netloc = f"{user}@{hosts}" if user else hosts
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() != "password"]
    if len(kept) != len(pairs):
        secret = secret or next(v for k, v in pairs if k.lower() == "password")
    if netloc == parts.netloc and len(kept) == len(pairs):
        return url.strip(), None
    query = urlencode(kept) if len(kept) != len(pairs) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), secret or None


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # not even a URL: mask whatever could be a password
        return _USERINFO_PASSWORD.sub(r"\1***@", _QUERY_PASSWORD.sub(r"\1***", url.strip()))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if colon:
            netloc = f"{user}:***@{hosts}"
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url.strip()
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url.strip())
    except ValueError as exc:
        raise SinkUrlError(f"{redact_url(url)!r} is not a valid URL ({exc})") from None


# --- parsing -------------------------------------------------------------------------------


def parse_sink_url(url: str) -> SinkSpec:
    """The spec of a sink URL, or SinkUrlError saying what is wrong (a password in the URL
    is not kept: take it with ``split_secret`` first)."""
    shown = redact_url(url)
    clean, _ = split_secret(url)
    scheme, colon, _ = clean.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("kafka", "postgresql", "postgres", "ndjson"):
        raise SinkUrlError(
            f"{shown!r} is not a sink URL: use kafka://HOST:PORT/TOPIC, "
            "postgresql://USER@HOST:PORT/DATABASE?table=NAME or ndjson:///PATH"
        )
    try:
        if scheme == "kafka":
            return _kafka(clean)
        if scheme == "ndjson":
            return _ndjson(clean)
        return _postgres(clean)
    except SinkUrlError as exc:
        raise SinkUrlError(f"sink {shown!r}: {exc}") from None


def _options(query: str, known: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key not in known:
            raise SinkUrlError(f"unknown option {key!r} (known: {', '.join(known)})")
        if key in options:
            raise SinkUrlError(f"option {key!r} given twice")
        options[key] = value
    return options


def _choice(options: dict[str, str], key: str, choices: tuple[str, ...], default: str) -> str:
    value = options.get(key, default)
    for choice in choices:
        if value.upper() == choice.upper():
            return choice
    raise SinkUrlError(f"{key}={value!r} is not one of {', '.join(choices)}")


def _int(options: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    text = options.get(key)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SinkUrlError(f"{key}={text!r} is not a whole number") from None
    if not low <= value <= high:
        raise SinkUrlError(f"{key}={value} is outside {low}..{high}")
    return value


def _host_port(text: str, default_port: int | None) -> tuple[str, int | None]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    if not host:
        raise SinkUrlError(f"{text!r} has no host name")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SinkUrlError(f"{port_text!r} is not a port number")
    return host, int(port_text)


def _kafka(url: str) -> KafkaSpec:
    parts = _split(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if not hosts:
        raise SinkUrlError("no broker: use kafka://HOST:PORT/TOPIC")
    servers = []
    for item in hosts.split(","):
        host, port = _host_port(item, 9092)
        servers.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    topic = unquote(parts.path.lstrip("/")) or DEFAULT_TOPIC
    _check_topic(topic)
    options = _options(
        parts.query,
        (
            "acks",
            "compression",
            "key",
            "security",
            "sasl",
            "cafile",
            "linger_ms",
            "max_request_size",
            "timeout",
        ),
    )
    acks = {"-1": "all"}.get(options.get("acks", "all"), options.get("acks", "all"))
    if acks == "0":
        raise SinkUrlError("acks=0 gives no acknowledgement to wait for: use acks=all or acks=1")
    if acks not in ("all", "1"):
        raise SinkUrlError(f"acks={acks!r} is not one of all, 1")
    username = unquote(userinfo) if at else None
    security = _choice(options, "security", KAFKA_SECURITY, "SASL_SSL" if username else "PLAINTEXT")
    if username and not security.startswith("SASL_"):
        raise SinkUrlError("a user name needs security=SASL_SSL or security=SASL_PLAINTEXT")
    if security.startswith("SASL_") and not username:
        raise SinkUrlError(f"security={security} needs a user: kafka://USER@HOST:PORT/TOPIC")
    if "sasl" in options and not security.startswith("SASL_"):
        raise SinkUrlError("sasl= applies to security=SASL_SSL or SASL_PLAINTEXT only")
    timeout = _int(options, "timeout", 30, 1, 3600)
    return KafkaSpec(
        servers=tuple(servers),
        topic=topic,
        acks=acks,
        compression=_choice(options, "compression", KAFKA_COMPRESSION, "none"),
        key=_choice(options, "key", KAFKA_KEYS, "channel"),
        security=security,
        sasl_mechanism=_choice(options, "sasl", KAFKA_SASL, "SCRAM-SHA-512"),
        username=username,
        cafile=options.get("cafile") or None,
        linger_ms=_int(options, "linger_ms", 5, 0, 60_000),
        max_request_size=_int(options, "max_request_size", 1 << 20, 1024, 1 << 30),
        timeout_s=float(timeout),
    )


def _check_topic(topic: str) -> None:
    try:
        sample = topic.format(org="00D000000000000AAA", channel="event.Sample__e")
    except (KeyError, IndexError, ValueError):
        raise SinkUrlError(
            f"topic {topic!r}: only {{org}} and {{channel}} may stand in braces"
        ) from None
    if _TOPIC_CHARS.search(sample):
        raise SinkUrlError(
            f"topic {topic!r}: a Kafka topic name holds only letters, digits, '.', '_' and '-'"
        )
    if len(sample) > MAX_TOPIC:
        raise SinkUrlError(f"topic {topic!r} is longer than Kafka's {MAX_TOPIC} characters")


def _postgres(url: str) -> PostgresSpec:
    parts = _split(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if "," in hostport:
        raise SinkUrlError("give one host (several hosts are not supported)")
    host, port = _host_port(hostport, None) if hostport else ("", None)
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise SinkUrlError("no database: use postgresql://USER@HOST:PORT/DATABASE?table=NAME")
    options = _options(parts.query, ("table", *PG_PARAMS))
    table = options.pop("table", DEFAULT_TABLE)
    names = table.split(".")
    if len(names) > 2 or not all(_IDENT.fullmatch(n) for n in names):
        raise SinkUrlError(
            f"table={table!r}: use a plain name or schema.name "
            "(letters, digits and '_', not starting with a digit)"
        )
    if len(names[-1]) > MAX_TABLE:
        raise SinkUrlError(f"table={table!r}: the name is longer than {MAX_TABLE} characters")
    return PostgresSpec(
        host=host,
        port=port,
        database=database,
        user=unquote(userinfo) if at and userinfo else None,
        table=table,
        params=tuple(options.items()),
    )


def _ndjson(url: str) -> NdjsonSpec:
    rest = url.partition(":")[2]
    if rest == "-":
        return NdjsonSpec(None)
    parts = _split(url)
    if parts.query or parts.fragment:
        raise SinkUrlError("an NDJSON sink takes no options")
    if rest.startswith("//"):
        if parts.netloc not in ("", "localhost"):
            raise SinkUrlError("use ndjson:///ABSOLUTE/PATH (three slashes: no host)")
        path = unquote(parts.path)
    else:
        path = unquote(rest)
    if not path:
        raise SinkUrlError("no file: use ndjson:///PATH or ndjson:- for standard output")
    return NdjsonSpec(Path(path).expanduser().absolute())
