"""Migrations (with a backup first) and the one-writer-per-folder rule."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.store import (
    CaptureStore,
    EventQuery,
    SchemaTooNewError,
    StoreLockedError,
)
from sfmonitor.store.captures import PAGE_SIZE
from sfmonitor.store.schema import SCHEMA_VERSION, migrate, version_of


def test_a_version_1_database_is_backed_up_then_migrated(data_folder: Path) -> None:
    data_folder.mkdir()
    path = data_folder / "capture.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=1)
    conn.execute(
        "INSERT INTO profiles (name, environment, login_url, auth_kind, created_at) "
        "VALUES ('Old', 'production', 'https://login.salesforce.com', 'password', 1)"
    )
    conn.execute(
        "INSERT INTO events (profile_id, channel, kind, replay_id, created_at, received_at, "
        "summary, raw) VALUES (1, '/topic/A', 'pushtopic', 7, 1, 2, 's', '{}')"
    )
    conn.close()

    with CaptureStore.open(data_folder) as store:
        (profile,) = store.profiles()
        assert profile.name == "Old" and profile.keep_events is None and profile.source == ""
        assert store.count(EventQuery(profile.id)) == 1
        assert profile.id is not None and store.gaps(profile.id) == []
    backup = sqlite3.connect(f"{path}.v1.bak")
    assert version_of(backup) == 1
    assert backup.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    backup.close()
    check = sqlite3.connect(path)
    assert version_of(check) == SCHEMA_VERSION
    check.close()


def test_a_new_database_needs_no_backup(data_folder: Path) -> None:
    CaptureStore.open(data_folder).close()
    assert sorted(p.name for p in data_folder.iterdir() if p.name.endswith(".bak")) == []


def test_a_new_database_has_large_pages_and_an_old_one_keeps_its_own(data_folder: Path) -> None:
    CaptureStore.open(data_folder).close()
    conn = sqlite3.connect(data_folder / "capture.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    conn.close()
    old = data_folder / "old"
    old.mkdir()
    conn = sqlite3.connect(old / "capture.db", isolation_level=None)
    migrate(conn, old / "capture.db", target=1)  # written with SQLite's default 4 KiB pages
    conn.close()
    CaptureStore.open(old).close()
    conn = sqlite3.connect(old / "capture.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert version_of(conn) == SCHEMA_VERSION
    conn.close()


def test_a_database_from_a_newer_sfmonitor_is_refused(data_folder: Path) -> None:
    CaptureStore.open(data_folder).close()
    conn = sqlite3.connect(data_folder / "capture.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="please update sfmonitor"):
        CaptureStore.open(data_folder)


HOLDER = """
import sys, time
from pathlib import Path
from sfmonitor.store import CaptureStore
store = CaptureStore.open(Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(60)
"""


def test_a_second_process_is_told_who_holds_the_folder(data_folder: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreLockedError) as info:
            CaptureStore.open(data_folder)
        assert f"pid {holder.pid}" in str(info.value)
        assert "read-only" in str(info.value)
        with CaptureStore.open(data_folder, read_only=True) as reader:
            assert reader.profiles() == []
        # a crash (SIGKILL) releases the folder: the OS drops the lock
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        with CaptureStore.open(data_folder) as store:
            assert store.profiles() == []
    finally:
        holder.kill()
        holder.wait(10)


def test_the_same_process_cannot_open_a_folder_twice_for_writing(data_folder: Path) -> None:
    with CaptureStore.open(data_folder), pytest.raises(StoreLockedError):
        CaptureStore.open(data_folder)
