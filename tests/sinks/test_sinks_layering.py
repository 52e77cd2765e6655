"""The sinks load no Qt, and the Kafka and PostgreSQL clients only when such a sink is made
(an NDJSON sink, and ``sfmonitor`` without the ``sinks`` extra, need neither)."""

from __future__ import annotations

import subprocess
import sys


def test_sinks_load_no_qt_and_no_client_until_needed() -> None:
    code = (
        "import sys\n"
        "from sfmonitor.sinks import SinkContext, make_sink, parse_sink_url\n"
        "make_sink(parse_sink_url('ndjson:///tmp/x.ndjson'), SinkContext('00D'))\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'qasync', 'shiboken6', 'aiokafka', 'asyncpg'))))\n"
        "make_sink(parse_sink_url('kafka://h/t'), SinkContext('00D'))\n"
        "make_sink(parse_sink_url('postgresql://u@h/db'), SinkContext('00D'))\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(','.join(sorted(loaded & {'aiokafka', 'asyncpg'})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.splitlines() == ["", "aiokafka,asyncpg"]


def test_without_the_sinks_extra_a_kafka_sink_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['aiokafka'] = None  # as if not installed\n"
        "from sfmonitor.sinks import SinkContext, SinkUnavailableError, make_sink, parse_sink_url\n"
        "try:\n"
        "    make_sink(parse_sink_url('kafka://h/t'), SinkContext('00D'))\n"
        "except SinkUnavailableError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == (
        "kafka://h:9092/t: aiokafka is not installed (pip install 'sfmonitor[sinks]')"
    )
