"""Sink URLs: what each form means, clear errors for bad ones, and passwords split off."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfmonitor.sinks import (
    KafkaSpec,
    NdjsonSpec,
    PostgresSpec,
    SinkUrlError,
    parse_sink_url,
    redact_url,
    split_secret,
)
from sfmonitor.sinks.urls import channel_slug


def test_kafka_urls() -> None:
    spec = parse_sink_url("kafka://broker:9093/sf.{org}.{channel}?acks=1&compression=zstd")
    assert spec == KafkaSpec(("broker:9093",), "sf.{org}.{channel}", acks="1", compression="zstd")
    assert spec.topic_for("00D000000000001AAA", "/event/Order__e") == (
        "sf.00D000000000001AAA.event.Order__e"
    )
    plain = parse_sink_url("kafka://h1,h2:9999,[::1]:9092")
    assert isinstance(plain, KafkaSpec)
    assert plain.servers == ("h1:9092", "h2:9999", "[::1]:9092")
    assert plain.topic == "sf.{org}.{channel}" and plain.acks == "all" and plain.key == "channel"
    sasl = parse_sink_url(
        "kafka://alice@h/t?security=SASL_PLAINTEXT&sasl=scram-sha-256&key=record&cafile=/ca.pem"
    )
    assert isinstance(sasl, KafkaSpec)
    assert (sasl.username, sasl.security, sasl.sasl_mechanism, sasl.key, sasl.cafile) == (
        "alice",
        "SASL_PLAINTEXT",
        "SCRAM-SHA-256",
        "record",
        "/ca.pem",
    )
    assert parse_sink_url("kafka://bob@h/t").security == "SASL_SSL"  # type: ignore[union-attr]


def test_postgres_and_ndjson_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse_sink_url("postgresql://sfm@db.example:5433/events?table=sf.raw&sslmode=require")
    assert spec == PostgresSpec(
        "db.example", 5433, "events", "sfm", "sf.raw", (("sslmode", "require"),)
    )
    assert spec.dsn == "postgresql://sfm@db.example:5433/events?sslmode=require"
    assert parse_sink_url("postgres://h/db").table == "sf_events"  # type: ignore[union-attr]
    assert parse_sink_url("ndjson:-") == NdjsonSpec(None)
    assert parse_sink_url(f"ndjson://{tmp_path}/a b.ndjson") == NdjsonSpec(tmp_path / "a b.ndjson")
    monkeypatch.chdir(tmp_path)
    assert parse_sink_url("ndjson:out.ndjson") == NdjsonSpec(tmp_path / "out.ndjson")


@pytest.mark.parametrize(
    "url",
    [
        "kafka://broker:9093/sf.{org}.{channel}?acks=1&compression=zstd&linger_ms=20",
        "kafka://alice@h1:1,h2:2/t?security=SASL_SSL&sasl=PLAIN&cafile=/etc/ca.pem&timeout=5",
        "postgresql://sfm@db:5433/events?table=s.t&sslmode=verify-full&sslrootcert=/r.pem",
        "postgresql://[::1]/db",
        "ndjson:///var/log/sf%20events.ndjson",
        "ndjson:-",
    ],
)
def test_the_url_kept_means_the_same_sink(url: str) -> None:
    spec = parse_sink_url(url)
    assert parse_sink_url(spec.url) == spec
    assert parse_sink_url(spec.url).sink_id == spec.sink_id


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@h/db", "is not a sink URL"),
        ("kafka:/no-host", "no broker"),
        ("kafka://h:70000/t", "not a port number"),
        ("kafka://h/t{x}", "only {org} and {channel}"),
        ("kafka://h/has space", "holds only letters"),
        ("kafka://h/" + "x" * 250, "longer than Kafka's 249"),
        ("kafka://h/t?acks=0", "acks=0 gives no acknowledgement"),
        ("kafka://h/t?acks=2", "is not one of all, 1"),
        ("kafka://h/t?compression=brotli", "compression='brotli' is not one of"),
        ("kafka://h/t?security=SASL_SSL", "needs a user"),
        ("kafka://u@h/t?security=SSL", "a user name needs security=SASL"),
        ("kafka://h/t?sasl=PLAIN", "sasl= applies to"),
        ("kafka://h/t?linger_ms=soon", "is not a whole number"),
        ("kafka://h/t?acks=1&acks=all", "given twice"),
        ("kafka://h/t?colour=red", "unknown option 'colour'"),
        ("kafka://[::1/t", "is not a valid URL"),
        ("postgresql://u@h/", "no database"),
        ("postgresql://u@h1,h2/db", "one host"),
        ("postgresql://u@h/db?table=drop table", "use a plain name"),
        ("postgresql://u@h/db?table=a.b.c", "use a plain name"),
        ("postgresql://u@h/db?table=" + "t" * 56, "longer than 55"),
        ("postgresql://u@h/db?sslpassword=x", "unknown option 'sslpassword'"),
        ("ndjson://host/x", "three slashes"),
        ("ndjson:///x?fsync=off", "takes no options"),
        ("ndjson:", "no file"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(SinkUrlError) as caught:
        parse_sink_url(url)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "kafka://alice:Sup3r-secret@h/t?security=SSL",
        "postgresql://u:Sup3r-secret@h/?table=t",
        "postgresql://u@h/db?password=Sup3r-secret&table=1x",
        "mysql://u:Sup3r-secret@h/db",
        "kafka://u:Sup3r-secret@[::1/t",
    ],
)
def test_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(SinkUrlError) as caught:
        parse_sink_url(url)
    assert "Sup3r-secret" not in str(caught.value) and "***" in str(caught.value)


def test_split_secret_takes_the_password_out() -> None:
    assert split_secret("postgresql://sfm:p%40ss%3Aw@h:5432/db?table=t") == (
        "postgresql://sfm@h:5432/db?table=t",
        "p@ss:w",
    )
    assert split_secret("postgresql://sfm@h/db?password=pw&table=t") == (
        "postgresql://sfm@h/db?table=t",
        "pw",
    )
    assert split_secret("kafka://alice:s3cret@h1,h2/t?security=SASL_SSL") == (
        "kafka://alice@h1,h2/t?security=SASL_SSL",
        "s3cret",
    )
    for plain in ("kafka://h/t", "ndjson:///x/y.ndjson", "ndjson:-", "postgresql://u@h/db"):
        assert split_secret(plain) == (plain, None)
    assert split_secret("kafka://alice:@h/t") == ("kafka://alice@h/t", None)
    spec = parse_sink_url("postgresql://sfm:pw-in-url@h/db")
    assert "pw-in-url" not in spec.url + spec.sink_id + repr(spec)


def test_redact_url() -> None:
    assert redact_url("kafka://a:b@h/t") == "kafka://a:***@h/t"
    assert redact_url("postgresql://u@h/db?password=pw&x=1") == (
        "postgresql://u@h/db?password=***&x=1"
    )
    assert redact_url("ndjson:///x") == "ndjson:///x"


def test_channel_slug() -> None:
    assert channel_slug("/data/AccountChangeEvent") == "data.AccountChangeEvent"
    assert channel_slug("/u/notifications/My Channel") == "u.notifications.My_Channel"
