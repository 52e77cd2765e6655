"""Pub/Sub channels in the window, beside CometD ones: each shows its transport (a badge),
their events reach the table, the add-channel form offers the transport (and refuses
Pub/Sub for a PushTopic), and each error code of the Pub/Sub API becomes the channel's
status with Salesforce's words and the rpc id, as CometD's errors do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio

from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.emulator.pubsub_config import PubSubSettings
from sfmonitor.store import CaptureStore, Profile, Subscription
from sfmonitor.ui.dialogs import ChannelDialog
from sfmonitor.ui.main_window import MainWindow
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
COMETD = "/u/news"
PUBSUB = "/event/Order_Placed__e"


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    config = EmulatorConfig(connect_timeout=2.0)
    config.pubsub = PubSubSettings(keepalive=0.5)
    async with Emulator(config) as emu:
        await emu.start_pubsub()
        yield emu


def profile_of(store: CaptureStore, emu: Emulator, *pubsub: str) -> Profile:
    assert emu.pubsub is not None
    profile = save_emulator_profile(store, emu.url, (COMETD,))
    profile.pubsub_endpoint = f"http://{emu.pubsub.address}"
    profile = store.save_profile(profile)
    assert profile.id is not None
    for channel in pubsub:
        store.set_subscription(profile.id, Subscription(channel, transport="pubsub"))
    return profile


def item_of(window: MainWindow, channel: str) -> tuple[str, str]:
    """(text, tooltip) of a channel's sidebar row (empty while it is not there)."""
    for i in range(window.sidebar.list.count()):
        item = window.sidebar.list.item(i)
        if item.text().startswith(channel + "\n"):
            return item.text(), item.toolTip()
    return "", ""


async def test_pubsub_and_cometd_channels_side_by_side(
    window: MainWindow, store: CaptureStore, emulator: Emulator, tmp_path: Path
) -> None:
    profile = profile_of(store, emulator, PUBSUB)
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: all("live" in item_of(window, c)[0] for c in (COMETD, PUBSUB)))
    assert window.sidebar.transport(PUBSUB) == "pubsub"
    assert window.sidebar.transport(COMETD) == "cometd"
    assert "over Pub/Sub" in item_of(window, PUBSUB)[1]
    assert "over CometD" in item_of(window, COMETD)[1]
    emulator.org.publish_any(COMETD, "over CometD")
    emulator.org.publish_any(PUBSUB, {"Order_Number__c": "over Pub/Sub"})
    await wait_until(lambda: window.model.rowCount() == 2)
    window.sidebar.grab().save(str(tmp_path / "sidebar.png"))  # looked at by hand

    window.add_channel_action.trigger()
    await wait_until(lambda: isinstance(window.dialogs.current, ChannelDialog))
    dialog = window.dialogs.current
    assert isinstance(dialog, ChannelDialog) and dialog.transport.isVisibleTo(dialog)
    dialog.channel.setText("/topic/Foo")
    dialog.transport.setCurrentIndex(dialog.transport.findData("pubsub"))
    assert "PushTopic and generic channels" in dialog.errors.text()  # refused in the form
    dialog.channel.setText("/data/AccountChangeEvent")
    assert not dialog.errors.isVisible()
    dialog._accept()
    await wait_until(lambda: "live" in item_of(window, "/data/AccountChangeEvent")[0])
    assert window.sidebar.transport("/data/AccountChangeEvent") == "pubsub"
    (sub,) = [s for s in store.subscriptions(profile.id or 0) if s.channel.startswith("/data/")]
    assert sub.transport == "pubsub"
    emulator.org.create_record("Account", {"Name": "Acme"})
    await wait_until(lambda: window.model.rowCount() == 3)
    await window.controller.disconnect_profile()


@dataclass
class ErrorCase:
    name: str
    arrange: Callable[[Emulator], object]
    channel: str
    status: str  # the channel's status in the end
    words: str  # Salesforce's words, shown with the rpc id


CASES = [
    ErrorCase(
        "topic not found",
        lambda emu: None,
        "/event/No_Such__e",
        "error",
        "The topic /event/No_Such__e was not found",
    ),
    ErrorCase(
        "delivery allocation exhausted",
        lambda emu: emu.exhaust_allocation(),
        PUBSUB,
        "error",
        "You have exceeded the event delivery limit for your org.",
    ),
    ErrorCase(
        "service unavailable (retried)",
        lambda emu: setattr(emu.pubsub.faults, "unavailable", 2),
        PUBSUB,
        "live",
        "The service is unavailable. Try again later.",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_pubsub_error_codes_become_the_channels_status(
    window: MainWindow, store: CaptureStore, emulator: Emulator, case: ErrorCase
) -> None:
    profile = profile_of(store, emulator, case.channel)
    seen: list[tuple[str, str, str]] = []
    problems: list[tuple[str, str]] = []
    window.controller.channel_changed.connect(lambda *change: seen.append(change))
    window.controller.problem.connect(lambda *problem: problems.append(problem))
    case.arrange(emulator)
    await window.profiles.open_profile(profile, DEMO_SECRETS)
    await wait_until(lambda: case.status in item_of(window, case.channel)[0], timeout=15)
    told = [error for channel, _s, error in seen if channel == case.channel and error]
    assert told and case.words in told[0] and "rpcId: " in told[0]
    if case.status == "error":
        tooltip = item_of(window, case.channel)[1]
        assert case.words in tooltip and "rpcId: " in tooltip
        # the status bar's problem of that channel, in the same words
        assert [t for c, t in problems if c == case.channel][-1] == told[-1]
    else:  # a transient error is retried and its problem goes once the channel is live
        assert [t for c, t in problems if c == case.channel][-1] == ""
        assert case.words not in window.status.problem()
    await window.controller.disconnect_profile()


async def test_channels_added_from_a_time_keep_it_for_their_own_transport(
    window: MainWindow, store: CaptureStore
) -> None:
    """The time is kept as a position of the transport each channel will use, so that a
    restart before its first event still drops what is older (Pub/Sub ignores CometD's)."""
    profile = store.save_profile(
        replace(save_emulator_profile(store, "http://127.0.0.1:9", ()), transport="pubsub")
    )
    assert profile.id is not None
    since_ms = 1_700_000_000_000
    await window.controller.add_channels(profile, [PUBSUB, COMETD], "new", since_ms)
    states = store.replay_states(profile.id)
    assert states[PUBSUB].transport == "pubsub" and states[PUBSUB].live_since == since_ms
    assert states[COMETD].transport == "cometd"  # a generic channel stays on CometD
    assert states[COMETD].live_since == since_ms
