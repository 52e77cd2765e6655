"""The seed's replay contract, with both libraries: the same ``get_last_replay_id`` /
``store_replay_id`` code, written for aio-sf-streaming, runs against the real
aio-sf-streaming (0.3.7, from PyPI) and against ours, on the same emulator, and both must
replay the same events and store the same ids.

The seed's documented rules (``ReplayMixin.get_subscribe_payload``): any false answer
(``None``, ``0``, ``False``, ``""``) means "new events only"; an enum member counts by its
value; anything else goes through ``int()`` (``"42"`` is 42)."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_sf_streaming as seed
import pytest

from sfmonitor import streaming as ours
from sfmonitor.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    Emulator,
)

pytestmark = pytest.mark.asyncio
TOPIC = "/topic/Foo"


class ReplayCode:
    """What a user of the seed writes: an answer for get_last_replay_id, a store."""

    answer: Any = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stored: list[tuple[str, int, str]] = []

    async def get_last_replay_id(self, channel: str) -> Any:
        return self.answer

    async def store_replay_id(self, channel: str, replay_id: int, creation_time: str) -> None:
        self.stored.append((channel, replay_id, creation_time))


def seed_client(url: str, answer: Any) -> Any:
    class SeedClient(ReplayCode, seed.ReplayMixin, seed.PasswordSalesforceStreaming):
        token_url = f"{url}/services/oauth2/token"  # the seed has no login_url

    client = SeedClient(**credentials())
    client.answer = answer
    return client


def our_client(url: str, answer: Any) -> Any:
    class OurClient(ReplayCode, ours.ReplayMixin, ours.PasswordSalesforceStreaming):
        pass

    client = OurClient(**credentials(), login_url=url)
    client.answer = answer
    return client


def credentials() -> dict[str, str]:
    return {
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    }


async def replayed(client: Any, emulator: Emulator, topic: str) -> tuple[list[int], list[int]]:
    """Subscribe, publish one live event, read until it arrives: the replay ids replayed
    before it, and those ``store_replay_id`` was called with."""
    seen: list[int] = []
    await client.start()
    try:
        reply = await client.subscribe(topic)
        assert reply[0]["successful"], reply
        emulator.org.publish_any(topic, {"Name": "live"})

        async def read() -> None:
            async for message in client.messages():
                if message["channel"] == topic:
                    seen.append(message["data"]["event"]["replayId"])
                    if message["data"]["sobject"]["Name"] == "live":
                        return

        await asyncio.wait_for(read(), 20)
        await asyncio.sleep(0)  # the seed stores replay ids from tasks of its own
    finally:
        await client.stop()
    assert all(s[0] == topic and s[2].endswith("Z") for s in client.stored)
    return seen[:-1], sorted(s[1] for s in client.stored)


def answers() -> list[tuple[str, Any, Any]]:
    """(name, what our user returns, what the same user of the seed returns); the two
    "an id" answers are replaced by an id of the channel's first retained event."""
    return [
        ("None", None, None),
        ("zero", 0, 0),
        ("False", False, False),
        ("empty", "", ""),
        ("NEW_EVENTS", ours.ReplayType.NEW_EVENTS, seed.ReplayType.NEW_EVENTS),
        ("ALL_EVENTS", ours.ReplayType.ALL_EVENTS, seed.ReplayType.ALL_EVENTS),
        ("seed's enum", seed.ReplayType.ALL_EVENTS, seed.ReplayType.ALL_EVENTS),
        ("an id", 1, 1),
        ("an id as text", "1", "1"),
        ("-1", -1, -1),
        ("-2", -2, -2),
    ]


NEW_ONLY = ("None", "zero", "False", "empty", "NEW_EVENTS", "-1")


@pytest.mark.parametrize(("name", "mine", "theirs"), answers(), ids=[a[0] for a in answers()])
async def test_get_last_replay_id_answers_mean_the_same_in_both_libraries(
    name: str, mine: Any, theirs: Any
) -> None:
    async with Emulator() as emulator:
        # aiohttp's default cookie jar (the seed's) ignores cookies of IP-address hosts
        url = emulator.url.replace("127.0.0.1", "localhost")
        runs = []
        for who, make, answer in (("Seed", seed_client, theirs), ("Ours", our_client, mine)):
            topic = emulator.org.ensure_topic(f"{who}Topic").name
            old = [emulator.org.publish_any(f"/topic/{topic}", {"Name": "o"}) for _ in range(3)]
            if name.startswith("an id"):  # each channel numbers its events alike
                answer = old[0].replay_id if name == "an id" else str(old[0].replay_id)
            runs.append(await replayed(make(url, answer), emulator, f"/topic/{topic}"))
    expected, got = runs
    assert got == expected, f"ours {got} != seed {expected}"
    old_ids = [e.replay_id for e in old]
    if name in NEW_ONLY:
        assert got[0] == []
    elif name.startswith("an id"):
        assert got[0] == old_ids[1:]
    else:
        assert got[0] == old_ids  # -2: every retained event
