"""Discovery against the emulator over loopback: each source, paging, each source failing
alone, the token refused, the 500+ channel org, the cache form."""

from __future__ import annotations

import pytest

from sfmonitor.auth import RefreshTokenSource
from sfmonitor.auth.http import PostForm
from sfmonitor.discovery import Discovery, Kind, discover
from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN
from sfmonitor.emulator.faults import Pending
from sfmonitor.streaming.errors import AuthenticationError
from tests.discovery.conftest import LIMITED, MakeEmulator, login, users

pytestmark = pytest.mark.asyncio


async def test_each_source_finds_its_channels(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    found = await discover(emu.url, await login(emu.url), "62.0")
    assert [s.ok for s in found.sources] == [True] * 6, [s.text for s in found.sources]
    assert found.api_version == "62.0" and found.instance_url == emu.url
    kinds = found.by_kind()
    topics = {c.channel: c for c in kinds[Kind.PUSH_TOPIC]}
    assert set(topics) == {
        "/topic/AccountUpdates", "/topic/BigOpportunities", "/topic/ContactChanges",
        "/topic/WebLeads", "/topic/EscalatedCases",
    }  # fmt: skip
    assert topics["/topic/EscalatedCases"].badges == ("inactive",)
    assert "FROM Opportunity WHERE Amount > 10000" in topics["/topic/BigOpportunities"].detail
    generic = {c.channel: c for c in kinds[Kind.GENERIC]}
    assert generic["/u/deployments"].description == "Deployment pipeline status"
    assert (
        generic["/u/notifications/ExampleUserChannel"].label == "notifications/ExampleUserChannel"
    )
    events = {c.channel: c.label for c in kinds[Kind.PLATFORM_EVENT]}
    assert events["/event/Shipment_Update__e"] == "Shipment Update"
    assert set(events) >= {"/event/Order_Placed__e", "/event/Low_Ink__e"}
    standard = {c.channel: c for c in kinds[Kind.STANDARD_EVENT]}
    assert standard["/event/BatchApexErrorEvent"].cometd
    # FlowExecutionErrorEvent: "Streaming API (CometD)" blank in its supported subscribers
    assert standard["/event/FlowExecutionErrorEvent"].badges == ("Pub/Sub only",)
    cdc = {c.channel: c for c in kinds[Kind.CHANGE_EVENT]}
    assert cdc["/data/AccountChangeEvent"].selected is True
    assert cdc["/data/Invoice__ChangeEvent"].selected is True
    assert cdc["/data/TaskChangeEvent"].badges == ("not selected",)
    assert cdc["/data/ChangeEvents"].detail == "6 entities selected"
    custom = {c.channel: c for c in kinds[Kind.CUSTOM_CHANNEL]}
    assert custom["/data/SalesEvents__chn"].members == (
        "AccountChangeEvent",
        "OpportunityChangeEvent",
    )
    assert custom["/event/OrderStream__chn"].label == "Order Stream"
    monitoring = {c.channel: c.enabled for c in kinds[Kind.MONITORING]}
    assert monitoring["/event/LoginEventStream"] is True
    assert monitoring["/event/ApiEventStream"] is False
    # RealTimeEvent's storage rows are not channels
    assert "/event/LoginEvent" not in monitoring and "/event/ApiAnomalyEventStore" not in monitoring
    assert len(found.channels) == len({c.channel for c in found.channels})


async def test_paging_follows_next_records_url(make_emulator: MakeEmulator) -> None:
    whole = await make_emulator()
    paged = await make_emulator(query_page_size=2)
    one = await discover(whole.url, await login(whole.url))
    before = paged.org.api_requests
    many = await discover(paged.url, await login(paged.url))
    # 5 topics, 3 channels, 2 custom channels, 10 members, 13 RealTimeEvent rows: 2 a page
    pages = 3 + 2 + 1 + 5 + 7
    assert paged.org.api_requests - before == 1 + pages  # and describeGlobal
    assert many.channels == one.channels
    assert many.source("channel_members").count == 10  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("restriction", "failed"),
    [
        ({"hidden_objects": ("PushTopic",), "view_setup": True}, {"pushtopics"}),
        ({"hidden_objects": ("StreamingChannel",), "view_setup": True}, {"generic"}),
        ({"hidden_objects": ("RealTimeEvent",), "view_setup": True}, {"monitoring"}),
        ({}, {"custom_channels", "channel_members", "monitoring"}),  # no View Setup
    ],
)
async def test_a_refused_source_fails_alone(
    make_emulator: MakeEmulator, restriction: dict[str, object], failed: set[str]
) -> None:
    emu = await make_emulator(users=users(**restriction))
    found = await discover(emu.url, await login(emu.url, LIMITED))
    assert {s.source for s in found.sources if not s.ok} == failed
    for status in found.failed:
        assert status.permission and status.hint
        assert status.error and status.error.startswith("INVALID_TYPE: sObject type")
        assert status.hint in status.text and "failed" not in status.text
    if "channel_members" in failed:
        assert found.source("custom_channels").hint.startswith("needs the View Setup")  # type: ignore[union-attr]
        # describeGlobal still lists the change events, their selection unknown
        cdc = {c.channel: c for c in found.of_kind(Kind.CHANGE_EVENT)}
        assert cdc["/data/AccountChangeEvent"].selected is None
        # and the monitoring streams, whether enabled unknown
        streams = {c.channel: c.enabled for c in found.of_kind(Kind.MONITORING)}
        assert streams["/event/LoginEventStream"] is None
    kinds_found = {c.kind for c in found.channels}
    assert Kind.PLATFORM_EVENT in kinds_found and Kind.CHANGE_EVENT in kinds_found
    assert (Kind.PUSH_TOPIC in kinds_found) == ("pushtopics" not in failed)


async def test_insufficient_access_is_a_permission_too(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(users=users(), setup_refusal="INSUFFICIENT_ACCESS")
    found = await discover(emu.url, await login(emu.url, LIMITED))
    refused = found.source("custom_channels")
    assert refused is not None and not refused.ok and refused.permission
    assert refused.error and refused.error.startswith("INSUFFICIENT_ACCESS: You do not have")


async def test_describe_global_failing_alone(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    emu.faults.add(Pending("http_status", 1, "rest", status=503, path="/sobjects"))
    found = await discover(emu.url, await login(emu.url))
    objects = found.source("objects")
    assert objects is not None and not objects.ok and not objects.permission
    assert objects.error and "HTTP 503" in objects.error and "failed" in objects.text
    assert [s.source for s in found.failed] == ["objects"]
    assert not found.of_kind(Kind.PLATFORM_EVENT)
    # the selected entities still come from the channel members
    assert found.find("/data/AccountChangeEvent") is not None
    assert found.of_kind(Kind.PUSH_TOPIC) and found.of_kind(Kind.CUSTOM_CHANNEL)


async def test_a_refused_token_fails_the_discovery(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    token = await login(emu.url)
    emu.revoke_tokens()
    with pytest.raises(AuthenticationError):
        await discover(emu.url, token, "62.0")


async def test_a_token_source_is_asked_again_after_a_401(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    stale = await login(emu.url)
    emu.revoke_tokens()
    fresh = RefreshTokenSource(emu.url, DEFAULT_CLIENT_ID, DEFAULT_REFRESH_TOKEN)

    class StaleFirst:
        """A source whose first token was revoked since (an expired session)."""

        calls = 0

        async def fetch_token(self, post_form: PostForm) -> tuple[str, str]:
            self.calls += 1
            if self.calls == 1:
                return stale, emu.url
            return await fresh.fetch_token(post_form)

    source = StaleFirst()
    found = await discover(emu.url, source)
    assert source.calls == 2 and all(s.ok for s in found.sources)


async def test_the_large_org_has_over_500_channels(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(catalog="large")
    found = await discover(emu.url, await login(emu.url))
    assert all(s.ok for s in found.sources) and len(found.channels) >= 500
    counts = {kind: len(found.of_kind(kind)) for kind in Kind}
    assert counts[Kind.PUSH_TOPIC] == 100 and counts[Kind.GENERIC] == 63
    assert counts[Kind.PLATFORM_EVENT] == 154 and counts[Kind.CUSTOM_CHANNEL] == 14
    assert counts[Kind.CHANGE_EVENT] == 12 + 300 + 1  # the demo's, generated, ChangeEvents
    inactive = [c for c in found.of_kind(Kind.PUSH_TOPIC) if c.active is False]
    assert len(inactive) == 10
    selected = [c for c in found.of_kind(Kind.CHANGE_EVENT) if c.selected]
    assert len(selected) == 6 + 30
    pubsub = found.for_transport("pubsub")
    assert not pubsub.of_kind(Kind.PUSH_TOPIC) and not pubsub.of_kind(Kind.GENERIC)
    cometd = found.for_transport("cometd")
    assert cometd.find("/event/FlowExecutionErrorEvent") is None
    assert pubsub.find("/event/FlowExecutionErrorEvent") is not None


async def test_the_newest_api_version_when_none_is_given(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator()
    found = await discover(emu.url, await login(emu.url))
    assert found.api_version == emu.org.config.api_versions[-1]


async def test_the_cache_form_round_trips(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(users=users())
    found = await discover(emu.url, await login(emu.url, LIMITED))
    text = found.to_json()
    assert Discovery.from_json(text) == found
    assert "access_token" not in text and "Bearer" not in text
    for bad in ("", "[]", '{"format": 99}', '{"format": 1, "channels": 3}'):
        with pytest.raises(ValueError, match="not a discovery cache"):
            Discovery.from_json(bad)
