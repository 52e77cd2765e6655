"""What a server or an older file can hand the store that it must survive: nonsense
retention, a replay policy beyond 64 bits, replay ids no event can have, replay ids that
start over, a channel removed and added again. Through the real capture pipeline against
the emulator wherever a server is involved."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from sfmonitor.capture import CaptureError
from sfmonitor.emulator import Emulator, EmulatorConfig
from sfmonitor.store import CaptureStore, EventQuery, Profile, Subscription
from sfmonitor.store.records import ODD_REPLAY_ID, RESTARTED, EventRecord
from tests.helpers.capture_run import Run, stored
from tests.helpers.events import event, push_topic
from tests.helpers.profiles import save_emulator_profile


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(connect_timeout=2.0)) as emu:
        yield emu


@pytest.fixture
def emulator_profile(store: CaptureStore, emulator: Emulator) -> Profile:
    return save_emulator_profile(store, emulator.url, ("/u/news", "/event/Low_Ink__e"))


def test_the_store_refuses_nonsense_retention(store: CaptureStore, profile: Profile) -> None:
    for keep_events, keep_days in ((-5, None), (0, None), (2**63, None), (None, -1.0)):
        with pytest.raises(ValueError, match="keep-"):
            store.save_profile(
                Profile("X", profile.environment, "", keep_events=keep_events, keep_days=keep_days)
            )
    for days in (float("nan"), float("inf"), 1e308, 0.0):
        with pytest.raises(ValueError, match="keep-days"):
            store.save_profile(Profile("X", profile.environment, "", keep_days=days))


def test_retention_written_by_an_older_version_deletes_nothing(
    store: CaptureStore, profile: Profile, data_folder: Path
) -> None:
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i)) for i in range(1, 6)])
    for keep_events, keep_days in ((-5, None), (0, None), (None, -1.0), (None, 1e308)):
        conn = sqlite3.connect(data_folder / "capture.db")
        conn.execute(
            "UPDATE profiles SET keep_events = ?, keep_days = ? WHERE id = ?",
            (keep_events, keep_days, profile.id),
        )
        conn.commit()
        conn.close()
        loaded = store.profile(profile.name)
        assert loaded is not None
        with pytest.raises(ValueError, match="not applied"):
            store.apply_retention(loaded)
        assert store.count(EventQuery(profile.id)) == 5


@pytest.mark.asyncio
async def test_the_retention_task_reports_and_never_dies_silently(
    store: CaptureStore, emulator_profile: Profile, data_folder: Path
) -> None:
    conn = sqlite3.connect(data_folder / "capture.db")
    conn.execute("UPDATE profiles SET keep_days = 1e308 WHERE id = ?", (emulator_profile.id,))
    conn.commit()
    conn.close()
    loaded = store.profile(emulator_profile.name)
    assert loaded is not None
    warnings: list[str] = []
    run = Run(store, loaded, on_warning=warnings.append)
    await run.until(lambda: bool(warnings))
    assert "retention of profile 'Emu' not applied: keep-days" in warnings[0]
    assert not run.task.done()  # capturing goes on
    await run.stop()


@pytest.mark.asyncio
async def test_a_subscribe_that_crashes_ends_the_capture(
    store: CaptureStore, emulator_profile: Profile, data_folder: Path
) -> None:
    """A replay policy beyond 64 bits (written by an older version) used to kill the
    subscribe task in the log while the capture stayed "connected", capturing nothing."""
    conn = sqlite3.connect(data_folder / "capture.db")
    conn.execute(
        "UPDATE subscriptions SET replay_policy = '99999999999999999999' WHERE channel = ?",
        ("/u/news",),
    )
    conn.commit()
    conn.close()
    run = Run(store, emulator_profile)
    with pytest.raises(CaptureError, match=r"subscribing to /u/news failed: replay must be"):
        await asyncio.wait_for(run.task, 15)


@pytest.mark.asyncio
async def test_every_channel_refused_ends_a_capture_that_requires_one(
    store: CaptureStore, emulator: Emulator
) -> None:
    profile = save_emulator_profile(store, emulator.url, ("/topic/Missing",))
    run = Run(store, profile, require_channel=True)
    with pytest.raises(CaptureError, match="no channel could be subscribed"):
        await asyncio.wait_for(run.task, 15)


@pytest.mark.asyncio
async def test_a_channel_added_again_starts_where_the_user_says(
    store: CaptureStore, emulator_profile: Profile, emulator: Emulator
) -> None:
    """Issue 12.7: remove a channel, let events come, add it again with "new events
    only": none of the events of the meantime are captured, through the window's path
    (``book.policies`` + ``subscribe``) and through ``add_channel``."""
    pid = emulator_profile.id or 0
    run = Run(store, emulator_profile)
    await run.until(lambda: "/u/news" in run.live)
    emulator.org.publish_any("/u/news", "before")
    await run.until(lambda: len(stored(store, emulator_profile)) == 1)
    for attempt in ("window", "add_channel"):
        run.live.discard("/u/news")
        await run.capture.unsubscribe("/u/news")
        store.remove_subscription(pid, "/u/news", delete_events=False)
        meantime = {
            emulator.org.publish_any("/u/news", f"{attempt} {i}").replay_id for i in range(5)
        }
        store.set_subscription(pid, Subscription("/u/news", True, "new"))
        if attempt == "window":
            run.capture.book.policies["/u/news"] = "new"
            await run.capture.subscribe("/u/news")
        else:
            await run.capture.add_channel(Subscription("/u/news", True, "new"))
        await run.until(lambda: "/u/news" in run.live)
        after = emulator.org.publish_any("/u/news", f"after {attempt}").replay_id
        await run.until(lambda a=after: ("/u/news", a) in stored(store, emulator_profile))
        assert not meantime & {rid for _, rid in stored(store, emulator_profile)}
    await run.stop()


def test_a_channel_added_again_forgets_replay_state_written_after_its_removal(
    store: CaptureStore, profile: Profile
) -> None:
    """Events in flight when a channel is removed are written after it: adding it again
    must not resume from them."""
    pid = profile.id or 0
    store.set_subscription(pid, Subscription("/topic/Accounts"))
    store.remove_subscription(pid, "/topic/Accounts", delete_events=False)
    store.ingest(pid, [event(push_topic(106))])  # the writer's last batch lands late
    assert store.replay_states(pid)["/topic/Accounts"].replay_id == 106
    store.set_subscription(pid, Subscription("/topic/Accounts", True, "new"))
    assert "/topic/Accounts" not in store.replay_states(pid)
    store.set_subscription(pid, Subscription("/topic/Accounts", True, "all"))  # a change only
    store.ingest(pid, [event(push_topic(107))])
    store.set_subscription(pid, Subscription("/topic/Accounts", True, "new"))
    assert store.replay_states(pid)["/topic/Accounts"].replay_id == 107


@pytest.mark.asyncio
async def test_replay_ids_that_start_over_keep_the_new_events_and_say_so(
    store: CaptureStore, emulator_profile: Profile
) -> None:
    """Issue 12.8: capture from one server, then from a fresh one (a sandbox refresh, an
    emulator restarted) whose ids start over: every new event is stored, one notice."""
    first = {ev for ev in await _capture_from_fresh_server(store, emulator_profile, 6, 0)}
    second = await _capture_from_fresh_server(store, emulator_profile, 8, len(first))
    channels = {"/u/news", "/event/Low_Ink__e"}
    assert {rid for ch, rid in first} & {rid for ch, rid in second}  # the ids collided
    rows = stored(store, emulator_profile)
    assert len(rows) == len(first) + len(second)
    notices = [g for g in store.gaps(emulator_profile.id or 0) if g.action == RESTARTED]
    assert {g.channel for g in notices} == channels and len(notices) == 2
    assert all("replay ids restarted on" in g.server_text for g in notices)
    # a third run against the second server: no new notice, nothing stored twice
    again = await _capture_from_fresh_server(store, emulator_profile, 0, 0, reuse=True)
    assert again == set()
    assert len(stored(store, emulator_profile)) == len(rows)
    assert len([g for g in store.gaps(emulator_profile.id or 0) if g.action == RESTARTED]) == 2


_servers: dict[int, Emulator] = {}


async def _capture_from_fresh_server(
    store: CaptureStore, profile: Profile, n: int, stored_before: int, reuse: bool = False
) -> set[tuple[str, int]]:
    """Start a fresh emulator (ids from the start), point the profile at it, publish
    ``n`` events before capturing and ``n`` while capturing; returns what was published."""
    key = id(store)
    if not reuse:
        old = _servers.pop(key, None)
        if old is not None:
            await old.stop()
        emulator = Emulator(EmulatorConfig(connect_timeout=2.0))
        await emulator.start("127.0.0.1", 0)
        _servers[key] = emulator
    emulator = _servers[key]
    profile.login_url = emulator.url
    store.save_profile(profile)
    published: set[tuple[str, int]] = set()
    for i in range(n):
        for ch in ("/u/news", "/event/Low_Ink__e"):
            published.add((ch, emulator.org.publish_any(ch, {"Name": f"before {i}"}).replay_id))
    run = Run(store, profile, replay="all")
    await run.until(lambda: {"/u/news", "/event/Low_Ink__e"} <= run.live)
    for i in range(n):
        for ch in ("/u/news", "/event/Low_Ink__e"):
            published.add((ch, emulator.org.publish_any(ch, {"Name": f"live {i}"}).replay_id))
    expected = stored_before + len(published)
    await run.until(lambda: len(stored(store, profile)) >= expected)
    await asyncio.sleep(0.2)  # anything extra would be a duplicate
    await run.stop()
    if reuse:
        await emulator.stop()
        _servers.pop(key, None)
    return published


@pytest.mark.asyncio
async def test_replay_ids_beyond_64_bits_neither_fail_the_batch_nor_block_the_channel(
    store: CaptureStore,
) -> None:
    """Issue 13.3: a server whose ids cross 2^63 (one no Salesforce org can send): every
    event is stored, the odd ones without a replay id and with one notice per channel; the
    channel resumes from its last valid id; a restart works."""
    config = EmulatorConfig(connect_timeout=2.0, replay_id_base=2**63 - 3)
    async with Emulator(config) as emulator:
        profile = save_emulator_profile(store, emulator.url, ("/u/news", "/event/Low_Ink__e"))
        run = Run(store, profile)
        await run.until(lambda: {"/u/news", "/event/Low_Ink__e"} <= run.live)
        ids = []
        for i in range(4):
            for ch in ("/u/news", "/event/Low_Ink__e"):
                ids.append(emulator.org.publish_any(ch, {"Name": f"e{i}"}).replay_id)
        assert max(ids) >= 2**63
        await run.until(lambda: len(stored(store, profile)) == 8)
        await run.stop()
        rows = store.fetch(EventQuery(profile.id), limit=100, with_raw=True)
        events = [r for r in rows if r.kind != "gap"]
        assert all(r.replay_id is None or r.replay_id < 2**63 for r in events)
        assert sum(r.replay_id is None for r in events) == sum(rid >= 2**63 for rid in ids)
        assert any(str(2**63) in (r.raw or "") for r in events)  # the message keeps it
        odd = [g for g in store.gaps(profile.id or 0) if g.action == ODD_REPLAY_ID]
        assert {g.channel for g in odd} == {"/u/news", "/event/Low_Ink__e"}
        states = store.replay_states(profile.id or 0)
        assert all(s.replay_id is not None and s.replay_id < 2**63 for s in states.values())
        # a restart resumes and stores what comes next
        run = Run(store, profile)
        await run.until(lambda: {"/u/news", "/event/Low_Ink__e"} <= run.live)
        emulator.org.publish_any("/event/Low_Ink__e", {"Name": "after restart"})
        await run.until(
            lambda: any(
                "after restart" in (r.raw or "")
                for r in store.fetch(EventQuery(profile.id), limit=100, with_raw=True)
            )
        )
        await run.stop()


def test_an_event_without_a_time_of_its_own_is_not_stored_twice(
    store: CaptureStore, profile: Profile
) -> None:
    """Its receive time stands in for its creation time, and differs on a re-delivery:
    the store still knows it by its content."""
    pid = profile.id or 0
    message = {"channel": "/u/news", "data": {"event": {"replayId": 7}, "payload": "hi"}}
    first = store.ingest(pid, [event(message, received_ms=1_000)])
    again = store.ingest(pid, [event(message, received_ms=9_000)])
    assert (first.stored, again.stored, again.duplicates) == (1, 0, 1)
    assert again.notices == ()


def test_a_message_too_deep_for_sqlite_json_breaks_no_filter_and_is_no_damage(
    store: CaptureStore, profile: Profile, tmp_path: Path
) -> None:
    """SQLite's JSON functions refuse nesting beyond 1,000-2,000 levels ("malformed
    JSON"): a field filter over such a message must still answer (that message has no
    readable fields), and the file is not "damaged"."""
    from sfmonitor.store import export_events
    from sfmonitor.store.records import raw_json

    pid = profile.id or 0
    for depth in (900, 3000):
        nested: object = "bottom"
        for _ in range(depth):
            nested = {"level": nested}
        message = {
            "channel": "/u/x",
            "data": {"event": {"replayId": depth}, "payload": {"Region__c": "EMEA", "x": nested}},
        }
        row = EventRecord(
            pid, "/u/x", "generic", depth, None, depth, depth, "message", "deep", raw_json(message)
        )
        store.ingest_records([row])
    query = EventQuery(pid, text="Region__c = EMEA")
    assert store.count(query) == 1
    assert store.count_and_fetch(query)[0] == 1
    assert export_events(store, query, tmp_path / "out.json").count == 1
    assert store.count(EventQuery(pid, text="level")) == 2  # text search reads every message
    assert store.damage is None
    store.ingest(pid, [event(push_topic(5))])  # still written to


@pytest.mark.asyncio
@pytest.mark.parametrize("scope", ["oauth", "cometd"])
async def test_a_capture_stopped_while_logging_in_ends(
    store: CaptureStore, emulator_profile: Profile, emulator: Emulator, scope: str
) -> None:
    """Stopped while the login (or the handshake) is still under way, ``run()`` ends
    instead of going on to capture (the window's Disconnect right after Connect waited
    15 s for it, then left it running)."""
    from sfmonitor.emulator.faults import Pending

    emulator.faults.add(Pending("slow", 1, scope=scope, delay=0.5))
    run = Run(store, emulator_profile)
    await asyncio.sleep(0)  # run() has begun
    await run.capture.stop()
    await asyncio.wait_for(run.task, 10)
