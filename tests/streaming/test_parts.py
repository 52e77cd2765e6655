"""Error parsing, per-kind creation times and summaries, login failures and secret hygiene."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from sfmonitor.emulator import Emulator
from sfmonitor.streaming import (
    AuthenticationError,
    BayeuxError,
    EventKind,
    PasswordSalesforceStreaming,
    SimpleRefreshTokenSalesforceStreaming,
    SimpleSalesforceStreaming,
    StreamEvent,
    StreamingError,
    TransportError,
    creation_time_of,
    parse_error,
)


def test_bayeux_errors_split_on_the_first_two_colons() -> None:
    assert parse_error("403::Unknown client") == (403, "", "Unknown client")
    assert parse_error("403:denied_by_security_policy:create_denied") == (
        403,
        "denied_by_security_policy",
        "create_denied",
    )
    text = "400::API version in the URI is mandatory. URI format: '/cometd/62.0'"
    assert parse_error(text) == (400, "", text[5:])
    assert parse_error("no code here") == (None, "", "no code here")
    err = BayeuxError("403::Handshake denied", "503::Server is too busy.")
    assert err.code == 403 and err.message == "Handshake denied"
    assert str(err) == "403::Handshake denied (failureReason: 503::Server is too busy.)"


ISO = "2024-05-01T10:00:00.000Z"
CASES: list[tuple[dict[str, Any], str | None, EventKind]] = [
    (
        {
            "channel": "/topic/Foo",
            "data": {
                "event": {"createdDate": ISO, "replayId": 1, "type": "updated"},
                "sobject": {"Id": "001xx000003DGb2AAG", "Name": "A"},
            },
        },
        ISO,
        EventKind.PUSH_TOPIC,
    ),
    (
        {
            "channel": "/u/n",
            "data": {"event": {"createdDate": ISO, "replayId": 1}, "payload": "hello"},
        },
        ISO,
        EventKind.GENERIC,
    ),
    (
        {
            "channel": "/event/X__e",
            "data": {
                "payload": {"CreatedDate": ISO, "A__c": 1},
                "event": {"replayId": 2, "EventUuid": "u"},
            },
        },
        ISO,
        EventKind.PLATFORM_EVENT,
    ),
    (
        {
            "channel": "/data/AccountChangeEvent",
            "data": {
                "payload": {
                    "ChangeEventHeader": {
                        "entityName": "Account",
                        "recordIds": ["001xx000003DGb2AAG"],
                        "changeType": "UPDATE",
                        "changedFields": ["Name", "Phone"],
                        "commitTimestamp": 1714557600000,
                    }
                },
                "event": {"replayId": 3},
            },
        },
        ISO,
        EventKind.CHANGE_EVENT,
    ),
    (
        {
            "channel": "/event/LoginEventStream",
            "data": {"payload": {"EventDate": ISO, "Username": "ada"}, "event": {"replayId": 4}},
        },
        ISO,
        EventKind.MONITORING,
    ),
    (
        {"channel": "/event/X__e", "data": {"payload": {}, "event": {"replayId": 5}}},
        None,
        EventKind.PLATFORM_EVENT,
    ),
    (
        {
            "channel": "/data/ChangeEvents",
            "data": {
                "payload": {"ChangeEventHeader": {"commitTimestamp": "not a number"}},
                "event": {"replayId": 6},
            },
        },
        None,
        EventKind.CHANGE_EVENT,
    ),
]


@pytest.mark.parametrize(("message", "created", "kind"), CASES)
def test_creation_time_and_kind_for_every_event_kind(
    message: dict[str, Any], created: str | None, kind: EventKind
) -> None:
    assert creation_time_of(message) == created
    event = StreamEvent.from_message(message, received_at=1_700_000_000.0)
    assert event.kind is kind
    assert event.replay_id == message["data"]["event"]["replayId"]
    expected = (
        datetime(2024, 5, 1, 10, tzinfo=UTC)
        if created
        else datetime.fromtimestamp(1_700_000_000, tz=UTC)
    )
    assert event.created_at == expected  # falls back to the receive time, never KeyError
    assert event.raw is message


def test_summaries_are_one_readable_line() -> None:
    summaries = [StreamEvent.from_message(m).summary for m, _, _ in CASES]
    assert summaries[0] == "Account 001xx000003DGb2AAG UPDATED Name=A"
    assert summaries[1] == "hello"
    assert summaries[3] == "Account 001xx000003DGb2AAG UPDATE Name, Phone"
    assert summaries[4] == "LoginEventStream Username=ada"
    assert all("\n" not in s and len(s) <= 200 for s in summaries)
    odd = StreamEvent.from_message({"channel": "/u/x", "data": {"payload": "a\nb" * 500}})
    assert "\n" not in odd.summary and len(odd.summary) <= 200


def test_constructor_requires_credentials_and_connects_nothing() -> None:
    with pytest.raises(TypeError):
        PasswordSalesforceStreaming(username="u", password="p", client_id="c")
    client = SimpleRefreshTokenSalesforceStreaming(
        "R3fresh-S3cret", "c", "Cl1ent-S3cret", sandbox=True
    )
    assert client.token_url == "https://test.salesforce.com/services/oauth2/token"
    assert "S3cret" not in repr(client) and "S3cret" not in str(client)


@pytest.mark.asyncio
async def test_refused_credentials_raise_with_the_servers_words(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    client = SimpleSalesforceStreaming(**{**credentials, "password": "Sup3r-Secret-Pw"})
    with pytest.raises(AuthenticationError) as info:
        await client.start()
    assert (info.value.error, info.value.description) == ("invalid_grant", "authentication failure")
    # the server's words first, then why it may be (a wrong password or a blocking org)
    assert str(info.value).startswith("invalid_grant: authentication failure. ")
    assert "Sup3r-Secret-Pw" not in repr(info.value) + repr(client)
    with pytest.raises(StreamingError, match="not started"):
        await client.subscribe("/topic/Foo")


@pytest.mark.asyncio
async def test_unreachable_server_is_a_transport_error() -> None:
    client = SimpleSalesforceStreaming(
        "u", "p", "c", "s", login_url="http://127.0.0.1:9", connect_timeout=2
    )
    with pytest.raises(TransportError, match=re.escape("login to http://127.0.0.1:9 failed")):
        await client.start()


@pytest.mark.asyncio
async def test_refresh_token_flow_and_auto_version(emulator: Emulator) -> None:
    from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REFRESH_TOKEN

    async with SimpleRefreshTokenSalesforceStreaming(
        DEFAULT_REFRESH_TOKEN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, login_url=emulator.url
    ) as client:
        assert client.version == "68.0"  # AutoVersionMixin read /services/data/
        assert (await client.subscribe("/topic/Foo"))[0]["successful"]
