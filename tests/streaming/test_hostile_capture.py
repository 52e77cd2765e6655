"""End to end, client to store: what the client hands over for a replay id it cannot use
(``StreamEvent.replay_id`` None) is stored, and never becomes the channel's resume point."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sfmonitor.capture import Capture
from sfmonitor.store import CaptureStore, EventQuery
from tests.helpers.hostile import HostileServer, event
from tests.helpers.profiles import DEMO_SECRETS, save_emulator_profile
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.asyncio
FOO = "/topic/Foo"


async def test_an_out_of_range_replay_id_is_stored_and_blocks_nothing(tmp_path: Path) -> None:
    async with HostileServer() as org:
        with CaptureStore.open(tmp_path / "data") as store:
            profile = save_emulator_profile(store, org.url, (FOO,))
            assert profile.id is not None
            capture = Capture(store, profile, DEMO_SECRETS, store.subscriptions(profile.id))
            task = asyncio.ensure_future(capture.run())
            org.bayeux.push([event(FOO, 2**63), event(FOO, 10)])
            org.bayeux.push([event(FOO, 11)])
            events = EventQuery(kinds=frozenset({"pushtopic"}))  # not the notice row

            def three_stored() -> bool:
                assert not task.done() or task.result() is None
                return store.count(events) >= 3

            await wait_until(three_stored, 20, "the three events")
            await capture.stop()
            await asyncio.wait_for(task, 10)
            states = store.replay_states(profile.id)
            ids = [r.replay_id for r in store.fetch(events)]
            notices = [g.server_text for g in store.gaps(profile.id)]
    assert states[FOO].replay_id == 11  # resumes after 11, not after 2**63
    assert ids == [None, 10, 11]  # all three stored, in order; the odd one without an id
    assert len(notices) == 1 and f"replay id {2**63} on {FOO}" in notices[0]  # said once
