"""The neutral time helpers: Salesforce's timestamp text both ways, and no dependencies."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from sfmonitor.timefmt import iso_from_ms, parse_time


def test_iso_from_ms_is_salesforce_format_with_milliseconds() -> None:
    assert iso_from_ms(1459269608208) == "2016-03-29T16:40:08.208Z"
    assert iso_from_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_from_ms(1459269608005) == "2016-03-29T16:40:08.005Z"


@pytest.mark.parametrize(
    "text",
    ["2016-03-29T16:40:08.208Z", "2016-03-29T16:40:08.208+0000", "2016-03-29T18:40:08.208+02:00"],
)
def test_parse_time_reads_every_offset_form(text: str) -> None:
    assert parse_time(text) == datetime(2016, 3, 29, 16, 40, 8, 208000, tzinfo=UTC)


@pytest.mark.parametrize("text", [None, "", "yesterday", "2016-13-45T00:00:00Z"])
def test_parse_time_says_none_for_what_is_not_a_time(text: str | None) -> None:
    assert parse_time(text) is None


def test_parse_time_reads_back_iso_from_ms() -> None:
    parsed = parse_time(iso_from_ms(1700000000123))
    assert parsed is not None and int(parsed.timestamp() * 1000) == 1700000000123


def test_timefmt_loads_no_other_sfmonitor_module() -> None:
    """The store, the emulator and the clients share it: it must pull none of them in."""
    code = (
        "import sys, sfmonitor.timefmt\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('sfmonitor.') "
        "and m != 'sfmonitor.timefmt')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""
