"""The session's lifecycle is one ``Phase``: the moves it makes are allowed, every other move
is refused with a ``ClientStateError`` naming both phases, and a session closed while it
was opening never goes live (no poll task left running against the server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sfmonitor.emulator import Emulator
from sfmonitor.emulator.faults import Pending
from sfmonitor.streaming import (
    ClientStateError,
    ConnectionFailedError,
    ConnectionState,
    Notice,
    SimpleSalesforceStreaming,
    StateChange,
    StreamingError,
)
from sfmonitor.streaming.phase import Phase, advance
from sfmonitor.streaming.policy import Policy
from sfmonitor.streaming.session import CometdSession, Hooks
from sfmonitor.streaming.transport import HttpOptions

# Every move the engine makes (see the diagram in phase.py); CLOSED is reachable from all.
MOVES = {
    (Phase.NEW, Phase.OPENING),
    (Phase.OPENING, Phase.LIVE),
    (Phase.OPENING, Phase.FAILED),
    (Phase.LIVE, Phase.HANDSHAKE),
    (Phase.LIVE, Phase.LOGIN),
    (Phase.LIVE, Phase.FAILED),
    (Phase.HANDSHAKE, Phase.LIVE),
    (Phase.HANDSHAKE, Phase.LOGIN),
    (Phase.HANDSHAKE, Phase.FAILED),
    (Phase.LOGIN, Phase.HANDSHAKE),
    (Phase.LOGIN, Phase.FAILED),
} | {(phase, Phase.CLOSED) for phase in Phase}


@pytest.mark.parametrize("move", sorted(MOVES, key=lambda m: (m[0].value, m[1].value)))
def test_the_moves_a_session_makes_are_allowed(move: tuple[Phase, Phase]) -> None:
    assert advance(*move) is move[1]


REFUSED = sorted(
    {(a, b) for a in Phase for b in Phase} - MOVES, key=lambda m: (m[0].value, m[1].value)
)


@pytest.mark.parametrize("move", REFUSED)
def test_every_other_move_is_refused_naming_both_phases(move: tuple[Phase, Phase]) -> None:
    current, new = move
    with pytest.raises(ClientStateError) as caught:
        advance(current, new)
    assert f"from {current.name} to {new.name}" in str(caught.value)
    assert isinstance(caught.value, StreamingError)  # under the client's one base


def test_the_refusals_say_what_to_do() -> None:
    with pytest.raises(ClientStateError, match="open\\(\\) was called twice"):
        advance(Phase.LIVE, Phase.OPENING)
    with pytest.raises(ClientStateError, match="closed; start\\(\\) the client again"):
        advance(Phase.CLOSED, Phase.LIVE)
    with pytest.raises(ClientStateError, match="failed; start\\(\\) the client again"):
        advance(Phase.FAILED, Phase.HANDSHAKE)


def _session(logins: list[str]) -> CometdSession:
    async def fetch_token() -> tuple[str, str]:
        logins.append("login")
        raise AssertionError("a closed session must not log in")

    async def initial_replay(channel: str) -> int:
        return -1

    async def resolve_version(url: str) -> str:
        return "62.0"

    hooks = Hooks(fetch_token, initial_replay, resolve_version, lambda notice: None)
    return CometdSession(hooks, HttpOptions(), "62.0", Policy())


@pytest.mark.asyncio
async def test_a_closed_session_refuses_to_open_or_subscribe_before_sending_anything() -> None:
    logins: list[str] = []
    session = _session(logins)
    await session.close()
    await session.close()  # twice is fine
    assert session.phase is Phase.CLOSED
    with pytest.raises(ClientStateError, match="from CLOSED to OPENING"):
        await session.open()
    with pytest.raises(ClientStateError, match="stopped"):
        await session.subscribe("/topic/Foo")
    assert logins == []  # refused before any login


class SignalsLogin(SimpleSalesforceStreaming):
    """Sets ``logging_in`` as its login starts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logging_in = asyncio.Event()

    async def fetch_token(self) -> tuple[str, str]:
        self.logging_in.set()
        return await super().fetch_token()


@pytest.mark.asyncio
async def test_stop_while_logging_in_ends_start_and_leaves_no_session(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    """Without the phase, the session went on to handshake and poll for ever after stop()
    (start() even returned normally): a session nobody owned, holding an org slot."""
    notices: list[Notice] = []
    emulator.faults.add(Pending("slow", 1, "oauth", delay=1.0))  # the login takes 1 s
    client = SignalsLogin(**credentials, on_notice=notices.append)
    starting = asyncio.ensure_future(client.start())
    await asyncio.wait_for(client.logging_in.wait(), 30)
    await client.stop()
    with pytest.raises(ConnectionFailedError, match="stopped while connecting"):
        await asyncio.wait_for(starting, 30)
    assert emulator.faults.fired.get("slow") == 1  # the stop did come during the login
    assert emulator.org.active_sessions() == 0  # the handshake it made was ended
    states = [n.state for n in notices if isinstance(n, StateChange)]
    assert states[-1] is ConnectionState.STOPPED  # never "connected" after "stopped"
    assert ConnectionState.CONNECTED not in states
