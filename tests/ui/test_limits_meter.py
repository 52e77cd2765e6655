"""The status bar's limits meter over the emulator's live /limits/: plenty left, little left
(after a real replay spent it), none left, refused without View Setup; and the question
asked before a replay that would likely exceed what remains."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from sfmonitor.discovery import (
    DELIVERY,
    STREAMING_LIMITS,
    Kind,
    Limits,
    RestError,
    check_replay,
    fetch_limits,
    parse_limits,
    publish_event,
)
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.streaming.errors import TransportError
from sfmonitor.ui.limits_meter import (
    COLORS,
    EXHAUSTED,
    LOW,
    NEEDS_VIEW_SETUP,
    OK,
    UNKNOWN,
    LimitsMeter,
    compact,
    replay_question,
)
from sfmonitor.ui.theme import ERROR, LIVE, MUTED, WARNING
from tests.discovery.conftest import LIMITED, credentials, login, users
from tests.discovery.test_limits import replay_all

MakeEmulator = Callable[..., Awaitable[Emulator]]
CHANNEL = "/event/Order_Placed__e"


@pytest_asyncio.fixture
async def make_emulator() -> AsyncIterator[MakeEmulator]:
    started: list[Emulator] = []

    async def make(**settings: Any) -> Emulator:
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        await emu.stop()


def meter(qtbot: Any) -> LimitsMeter:
    widget = LimitsMeter()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def colour_of(widget: LimitsMeter) -> str:
    """The chunk colour the bar is painted with."""
    sheet = widget.bar.styleSheet()
    return sheet.split("QProgressBar::chunk { background: ")[1].split(";")[0]


@pytest.mark.asyncio
async def test_plenty_left_little_left_and_none(make_emulator: MakeEmulator, qtbot: Any) -> None:
    emu = await make_emulator(daily_platform_events=100)
    token = await login(emu.url)
    widget = meter(qtbot)
    assert widget.level == UNKNOWN and "not fetched yet" in widget.toolTip()
    widget.set_limits(await fetch_limits(emu.url, token))
    assert widget.text() == "100 of 100 deliveries left"
    assert widget.level == OK and colour_of(widget) == LIVE
    assert widget.bar.value() == widget.bar.maximum()
    lines = widget.toolTip().splitlines()
    assert lines[: len(STREAMING_LIMITS)] == [
        limit.text for limit in (await fetch_limits(emu.url, token)).streaming()
    ]
    assert lines[0] == f"{DELIVERY}: 100 of 100 left"
    assert "accurate within five minutes" in lines[-1]
    # a real replay of 93 events spends 93 of the 100
    for i in range(93):
        await publish_event(emu.url, token, CHANNEL, {"Order_Number__c": f"L-{i}"})
    assert len(await replay_all(emu.url, credentials(emu), 93)) == 93
    widget.set_limits(await fetch_limits(emu.url, token))
    assert widget.text() == "7 of 100 deliveries left"
    assert widget.level == LOW and colour_of(widget) == WARNING
    assert f"color: {WARNING}" in widget.label.styleSheet()
    assert widget.bar.value() == 70  # of 1000
    assert f"{DELIVERY}: 7 of 100 left" in widget.toolTip()
    emu.exhaust_allocation(DELIVERY)
    widget.set_limits(await fetch_limits(emu.url, token))
    assert widget.text() == "none of 100 deliveries left"
    assert widget.level == EXHAUSTED and colour_of(widget) == ERROR
    assert widget.bar.value() == 0
    # the tooltip shows when the pointer rests on the meter
    QApplication.sendEvent(
        widget, QHelpEvent(QEvent.Type.ToolTip, QPoint(2, 2), widget.mapToGlobal(QPoint(2, 2)))
    )
    assert QToolTip.isVisible() and QToolTip.text() == widget.toolTip()
    QToolTip.hideText()


@pytest.mark.asyncio
async def test_refused_without_view_setup(make_emulator: MakeEmulator, qtbot: Any) -> None:
    emu = await make_emulator(users=users())
    widget = meter(qtbot)
    widget.set_limits(await fetch_limits(emu.url, await login(emu.url)))
    with pytest.raises(RestError) as refused:
        await fetch_limits(emu.url, await login(emu.url, LIMITED))
    widget.set_error(refused.value)
    assert widget.text() == NEEDS_VIEW_SETUP == "limits unknown (needs View Setup)"
    assert widget.level == UNKNOWN and colour_of(widget) == MUTED
    assert "View Setup and Configuration" in widget.toolTip()
    assert "INSUFFICIENT_ACCESS" in widget.toolTip()
    assert widget.bar.value() == 0  # the last figures are not left standing
    # another refusal, or no answer at all, is unknown without the permission hint
    # (Salesforce's words for a server fault; the emulator has no such /limits/ answer)
    widget.set_error(RestError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
    assert widget.text() == "limits unknown" and "UNKNOWN_EXCEPTION" in widget.toolTip()
    assert "View Setup" not in widget.toolTip()
    await emu.stop()
    with pytest.raises(TransportError) as down:
        await fetch_limits(emu.url, "a-token")
    widget.set_error(down.value)
    assert widget.text() == "limits unknown" and "could not be read" in widget.toolTip()


def test_an_org_without_the_delivery_counter(qtbot: Any) -> None:
    widget = meter(qtbot)
    widget.set_limits(parse_limits({"DailyApiRequests": {"Max": 15000, "Remaining": 14000}}))
    assert widget.text() == "deliveries unknown" and widget.level == UNKNOWN
    assert widget.toolTip().startswith("No streaming limits reported.")


def test_compact_figures() -> None:
    assert [compact(n) for n in (0, 7, 999, 1000, 12_345, 50_000, 1_250_000, 3 * 10**9)] == [
        "0", "7", "999", "1k", "12.3k", "50k", "1.2M", "3G",
    ]  # fmt: skip
    assert set(COLORS) == {OK, LOW, EXHAUSTED, UNKNOWN}


@pytest.mark.asyncio
async def test_the_question_before_a_replay(make_emulator: MakeEmulator) -> None:
    emu = await make_emulator(daily_platform_events=1000)
    limits: Limits = await fetch_limits(emu.url, await login(emu.url))
    assert replay_question(check_replay(limits, 500)) is None  # fits: nothing to ask
    assert replay_question(check_replay(limits, 10**6, Kind.MONITORING)) is None
    question = replay_question(check_replay(limits, 960, Kind.CHANGE_EVENT))
    assert question is not None
    assert question.startswith("Replaying about 960 events would spend them from")
    assert "1,000 of 1,000 left today" in question and question.endswith("Replay anyway?")
    # the check counts every subscriber: two of 480 ask as well
    assert replay_question(check_replay(limits, 480, subscribers=2)) is not None
    # unknown cost (an org that does not report the counter): nothing to ask
    assert replay_question(check_replay(parse_limits({}), 10**6)) is None
