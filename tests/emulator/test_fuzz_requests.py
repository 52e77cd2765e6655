"""The emulator against malformed requests: Bayeux or HTTP 4xx errors, never a 500, and
the server keeps serving."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.emulator_thread import EmulatorThread, emulator_thread

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=5),
    max_leaves=15,
)
MESSAGE = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(
            [
                "/meta/handshake",
                "/meta/connect",
                "/meta/subscribe",
                "/meta/unsubscribe",
                "/meta/disconnect",
                "/topic/Foo",
                "/bogus",
                "",
            ]
        )
    },
    optional={
        "clientId": st.text(max_size=30) | st.integers(-(2**63), 2**63 - 1),
        "subscription": st.text(max_size=30) | JSON,
        "ext": JSON,
        "id": JSON,
        "version": JSON,
        "supportedConnectionTypes": JSON,
        "connectionType": JSON,
    },
)


@pytest.fixture(scope="module")
def emu() -> Iterator[tuple[EmulatorThread, str]]:
    with emulator_thread(connect_timeout=0.2) as e:
        form = (
            b"grant_type=password&client_id=sfmonitor-demo-client-id&client_secret="
            b"sfmonitor-demo-client-secret&username=demo%40sfmonitor.example&password=demo-password"
        )
        with urllib.request.urlopen(f"{e.url}/services/oauth2/token", data=form) as reply:
            token = orjson.loads(reply.read())["access_token"]
        yield e, token


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@FUZZ
@given(body=st.one_of(st.lists(MESSAGE, max_size=3), JSON, st.binary(max_size=200)))
def test_cometd_never_answers_500(emu: tuple[EmulatorThread, str], body: Any) -> None:
    thread, token = emu
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    status = post(
        f"{thread.url}/cometd/62.0",
        raw,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status < 500 or status == 503, status


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(
            [
                "grant_type",
                "client_id",
                "client_secret",
                "username",
                "password",
                "refresh_token",
                "x",
            ]
        ),
        st.text(max_size=20),
    )
)
def test_oauth_never_answers_500(emu: tuple[EmulatorThread, str], form: dict[str, str]) -> None:
    import urllib.parse

    thread, _ = emu
    status = post(
        f"{thread.url}/services/oauth2/token",
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status < 500


def test_still_serving_after_the_fuzz(emu: tuple[EmulatorThread, str]) -> None:
    thread, token = emu
    status = post(
        f"{thread.url}/cometd/62.0",
        orjson.dumps(
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ]
        ),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status == 200
