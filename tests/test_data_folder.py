"""A data folder that cannot be used, a damaged or newer capture file, and what holds event
data: one clear line and a documented exit code each (never a traceback), and every
file of event data readable by its owner only."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sfmonitor.store import CaptureStore, Environment, EventQuery, Profile
from sfmonitor.store.schema import SCHEMA_VERSION
from tests.helpers.events import event, push_topic


def sfmonitor(
    *argv: str, env_dir: Path | None = None, prefix: tuple[str, ...] = ()
) -> tuple[int, str]:
    """Run the real command; its exit code and stderr."""
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    if env_dir is not None:
        env["SFMONITOR_DATA_DIR"] = str(env_dir)
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "sfmonitor", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return proc.returncode, proc.stderr


def capture_with_events(folder: Path, n: int = 3000) -> None:
    with CaptureStore.open(folder, index_in_background=False) as store:
        profile = store.save_profile(Profile("P", Environment.SANDBOX, "https://x.example"))
        assert profile.id is not None
        for start in range(0, n, 500):
            store.ingest(
                profile.id,
                [
                    event(push_topic(i, name="Acme " + "x" * 300))
                    for i in range(start + 1, start + 501)
                ],
            )


def test_a_data_folder_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("not a folder")
    code, err = sfmonitor("profiles", "list", env_dir=target)
    assert code == 6 and "Traceback" not in err
    assert err.strip() == f"sfmonitor: the data folder {target} is a file, not a folder"


def test_a_data_folder_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "data"
    code, err = sfmonitor("capture", "--demo", env_dir=target)
    assert code == 6 and "Traceback" not in err
    assert f"{tmp_path / 'afile'} is a file, not a folder" in err and len(err.splitlines()) == 1


def _read_only(folder: Path) -> tuple[str, ...]:
    """A prefix that runs a command with ``folder`` on a read-only file system (a bind
    mount in a private mount namespace: nothing changes outside the command)."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux)")
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, str(folder), "true"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.decode().strip()}")
    return ("unshare", "-rm", "sh", "-c", script, str(folder))


def test_a_read_only_file_system(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    capture_with_events(folder, 500)
    prefix = _read_only(folder)
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "sfmonitor", "--data-dir", str(folder), "profiles", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("P\tsandbox\thttps://x.example") and "500 events" in proc.stdout
    assert "Traceback" not in proc.stderr
    code, err = sfmonitor("--data-dir", str(folder), "capture", "--demo", prefix=prefix)
    assert code == 6 and "Traceback" not in err
    assert "cannot be written (Read-only file system); only 'profiles list' works there" in err


def test_a_truncated_capture_file(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    capture_with_events(folder)
    db = folder / "capture.db"
    with open(db, "r+b") as handle:
        handle.truncate(db.stat().st_size // 2)
    for argv in (("profiles", "list"), ("capture", "--demo")):
        code, err = sfmonitor("--data-dir", str(folder), *argv)
        assert code == 7 and "Traceback" not in err, err
        assert "capture.db is damaged (the file is cut short" in err
        assert "sfmonitor doctor --recover" in err
    code, err = sfmonitor("--data-dir", str(folder), "doctor")
    assert code == 7 and "Traceback" not in err


def test_a_capture_file_from_a_newer_sfmonitor(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    capture_with_events(folder, 10)
    conn = sqlite3.connect(folder / "capture.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    code, err = sfmonitor("--data-dir", str(folder), "profiles", "list")
    assert code == 7 and "Traceback" not in err
    assert "newer than this sfmonitor understands" in err and len(err.splitlines()) == 1


def _garble_the_middle(db: Path) -> None:
    page = 16384
    size = db.stat().st_size
    with open(db, "r+b") as handle:
        handle.seek((size // 2) // page * page)
        handle.write(bytes(range(256)) * (3 * page // 256))


def test_garbage_in_the_middle_is_noticed_at_once_and_doctor_saves_the_rest(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    capture_with_events(folder)
    _garble_the_middle(folder / "capture.db")
    code, err = sfmonitor("--data-dir", str(folder), "capture", "--demo")
    assert code == 7 and "database disk image is malformed" in err and "Traceback" not in err
    code, err = sfmonitor("--data-dir", str(folder), "doctor")
    assert code == 7 and "doctor --recover" in err
    code, err = sfmonitor("--data-dir", str(folder), "doctor", "--recover")
    assert code == 0, err
    assert "the old file is kept as" in err and "unreadable: events rows after id" in err
    kept = [p for p in folder.iterdir() if p.name.startswith("capture.db.damaged-")]
    assert kept and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    code, err = sfmonitor("--data-dir", str(folder), "doctor")
    assert code == 0 and "no damage found" in err
    with CaptureStore.open(folder) as store:
        assert store.wait_checked(10) is None
        count = store.count(EventQuery(text="Acme"))
        assert 2500 < count < 3000  # a few pages lost, the rest saved
        (profile,) = store.profiles()
        # the channel resumes from before the loss: the server sends again what it keeps
        state = store.replay_states(profile.id or 0)["/topic/Accounts"]
        assert state.replay_id is not None and state.replay_id < 3000


def test_damage_met_by_a_filter_or_an_export_says_what_to_do(tmp_path: Path) -> None:
    from sfmonitor.store import StoreDamagedError, export_events

    folder = tmp_path / "data"
    capture_with_events(folder)
    store = CaptureStore.open(folder)
    try:
        store.wait_checked(10)
        _garble_the_middle(folder / "capture.db")  # while it is open
        with pytest.raises(StoreDamagedError, match="sfmonitor doctor"):
            store.count(EventQuery(text="no such text"))
        with pytest.raises(StoreDamagedError, match="sfmonitor doctor"):
            export_events(store, EventQuery(), tmp_path / "out.json")
        assert not (tmp_path / "out.json").exists()
        with pytest.raises(StoreDamagedError, match="nothing more is written"):
            store.ingest(1, [event(push_topic(99_999))])
    finally:
        store.close()


def test_everything_that_holds_event_data_is_private(tmp_path: Path) -> None:
    """The folder (also one made before, with looser modes), the capture file and its
    WAL, the copy made before a schema upgrade, the logs (rotated ones too)."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    (folder / "logs").mkdir(mode=0o755)
    (folder / "logs").chmod(0o755)
    for name in ("sfmonitor.log", "sfmonitor.log.1"):
        (folder / "logs" / name).write_text("old\n")
        (folder / "logs" / name).chmod(0o644)
    # a file of schema v3 (an earlier version): opening it upgrades it, after a backup
    capture_with_events(folder, 10)
    conn = sqlite3.connect(folder / "capture.db")
    # what later steps add goes too: the login kinds' columns, Pub/Sub's, the sinks' tables,
    # the profile notes
    login = ("callback_port", "sf_org", "key_file", "org_id", "org_name", "org_user", "org_kind")
    later = [
        *(("profiles", column) for column in (*login, "transport", "pubsub_endpoint")),
        ("subscriptions", "transport"),
        ("replay_state", "transport"),
        ("replay_state", "replay_bytes"),
        *(("events", column) for column in ("replay_bytes", "schema_id", "avro")),
    ]
    conn.executescript(
        "DROP TABLE store_identity; DROP INDEX events_replay; DROP INDEX events_replay_bytes; "
        "DROP TABLE avro_schemas; DROP TABLE sink_cursors; DROP TABLE profile_sinks; "
        "DROP TABLE profile_notes; "
        "CREATE UNIQUE INDEX events_replay ON events (profile_id, channel, replay_id) "
        "WHERE replay_id IS NOT NULL; "
        + "".join(f"ALTER TABLE {table} DROP COLUMN {column}; " for table, column in later)
        + "PRAGMA user_version = 3;"
    )
    conn.close()
    (folder / "capture.db").chmod(0o644)
    folder.chmod(0o755)
    code, err = sfmonitor("--data-dir", str(folder), "profiles", "list")
    assert code == 0, err
    modes = {
        p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in [folder, *folder.rglob("*")]
    }
    assert (folder / "capture.db.v3.bak").exists()
    assert modes.pop(".") == 0o700 and modes.pop("logs") == 0o700
    assert modes and all(mode == 0o600 for mode in modes.values()), modes
