"""The lifecycle of one CometD session as one value, and the moves it allows.

The engine reads ``Phase`` to decide what to do next (poll, handshake again, log in again,
stop); listeners see the coarser ``ConnectionState`` of ``state``. Every move goes through
``advance``, which refuses the ones that make no sense with a ``ClientStateError`` naming
both phases, so that a misuse (``open()`` twice, a closed session brought back to life)
fails loudly instead of leaving a poll task running on a dead session. The moves::

    from        to          when
    NEW         OPENING     open()
    OPENING     LIVE        logged in and handshaken
    LIVE        HANDSHAKE   the server forgot our session (expiry, advice, a failed request)
    LIVE        LOGIN       the server refused our token (401)
    HANDSHAKE   LIVE        handshaken again (then every channel is re-subscribed)
    HANDSHAKE   LOGIN       the token was refused meanwhile
    LOGIN       HANDSHAKE   a new token arrived
    OPENING, LIVE,
    HANDSHAKE, LOGIN
                FAILED      the engine gave up
    any phase   CLOSED      close() (also from CLOSED: it may be called twice)
"""

from __future__ import annotations

import enum

from .errors import ClientStateError


class Phase(enum.Enum):
    """Where a CometD session stands (``CometdSession.phase``)."""

    # NEW:
    #   Built; nothing sent yet. ``open()`` logs in and handshakes.
    NEW = "new"
    # OPENING:
    #   ``open()`` is logging in, reading the API version and handshaking; its errors go to
    #   the caller of ``start()``.
    OPENING = "opening"
    # LIVE:
    #   The server knows our clientId: the poll loop sends ``/meta/connect``, subscribes go
    #   out at once.
    LIVE = "live"
    # HANDSHAKE:
    #   The session is gone (expired, advice ``handshake``, a failed request): the poll
    #   loop handshakes again with the current token, then re-subscribes every channel.
    #   Subscribes wait for it.
    HANDSHAKE = "handshake"
    # LOGIN:
    #   As HANDSHAKE, but the token was refused (401): a new one is fetched first.
    LOGIN = "login"
    # FAILED:
    #   The engine gave up (auto-reconnect off, credentials refused, an error of the
    #   caller's hooks); the error went to ``start()`` or to the iteration.
    FAILED = "failed"
    # CLOSED:
    #   ``close()`` was called: nothing is sent any more; a client starts a new session.
    CLOSED = "closed"


# phase -> the phases it may move to (CLOSED is reachable from every phase)
_MOVES: dict[Phase, frozenset[Phase]] = {
    Phase.NEW: frozenset({Phase.OPENING}),
    Phase.OPENING: frozenset({Phase.LIVE, Phase.FAILED}),
    Phase.LIVE: frozenset({Phase.HANDSHAKE, Phase.LOGIN, Phase.FAILED}),
    Phase.HANDSHAKE: frozenset({Phase.LIVE, Phase.LOGIN, Phase.FAILED}),
    Phase.LOGIN: frozenset({Phase.HANDSHAKE, Phase.FAILED}),
    Phase.FAILED: frozenset(),
    Phase.CLOSED: frozenset(),
}

# why a move out of a phase is refused, in the words of the caller's mistake
_WHY = {
    Phase.CLOSED: "the session was closed; start() the client again for a new one",
    Phase.FAILED: "the session failed; start() the client again for a new one",
}


def advance(current: Phase, new: Phase) -> Phase:
    """``new`` if a session in ``current`` may move there, else ``ClientStateError``."""
    if new is Phase.CLOSED or new in _MOVES[current]:
        return new
    why = _WHY.get(current) or (
        "open() was called twice" if new is Phase.OPENING else "not a move a session makes"
    )
    raise ClientStateError(f"a CometD session cannot go from {current.name} to {new.name}: {why}")
