"""``sfmonitor capture`` with sinks in a process of its own, as a service runs it: its
stderr read by a thread, its status lines parsed, and the emulator it captures from."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from sfmonitor.store import CaptureStore
from tests.helpers.emulator_thread import SECRETS_STDIN, EmulatorThread
from tests.helpers.profiles import save_emulator_profile
from tests.helpers.waiting import wait_until_blocking
from tests.sinks.helpers import CHANNELS, publish

ROOT = Path(__file__).parents[2]
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
_STATUS = re.compile(
    r"^sfmonitor: sink (?P<sink>\S+): (?P<state>\w+).*?(?P<behind>[\d,]+) event\(s\) behind"
    r"(?: \(oldest received (?P<seconds>[\d.]+) s ago\))?.*?(?P<forwarded>[\d,]+) forwarded"
)


@dataclass(frozen=True)
class Status:
    """A status line of ``capture`` (one sink)."""

    sink: str
    state: str
    behind: int
    forwarded: int
    seconds: float  # since the oldest event not acknowledged was received


def parse_status(line: str) -> Status | None:
    match = _STATUS.match(line)
    if match is None:
        return None
    behind, forwarded = (int(match[k].replace(",", "")) for k in ("behind", "forwarded"))
    return Status(match["sink"], match["state"], behind, forwarded, float(match["seconds"] or 0))


def emulator_profile(folder: Path, emu: EmulatorThread) -> int:
    """The profile ``Emu`` of the emulator's default user, on the test channels (its
    PushTopic made first)."""
    emu.call(lambda: emu.emulator.org.ensure_topic("Foo"))
    with CaptureStore.open(folder) as store:
        profile = save_emulator_profile(store, emu.url, CHANNELS)
    assert profile.id is not None
    return profile.id


def generate(emu: EmulatorThread, count: int) -> None:
    """``count`` events published over the channels, on the emulator's loop."""
    asyncio.run_coroutine_threadsafe(publish(emu.emulator, count), emu.loop).result(120)


def sfmonitor(
    folder: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A short ``sfmonitor`` command on ``folder`` (``sinks``, ``profiles``)."""
    return subprocess.run(
        [sys.executable, "-m", "sfmonitor", "--data-dir", str(folder), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env or {**os.environ, **NO_KEYRING},
    )


class CaptureProcess:
    """``sfmonitor capture --profile Emu --secrets-stdin ARGS`` with status lines every
    0.3 s; ``stdin`` holds the profile's secrets (and the saved sinks' passwords), or is
    None: the secrets come from the keyring."""

    def __init__(
        self,
        folder: Path,
        *args: str,
        stdin: str | None = SECRETS_STDIN,
        env: dict[str, str] | None = None,
        name: str = "capture",
    ) -> None:
        argv = [sys.executable, "-m", "sfmonitor", "--data-dir", str(folder)]
        argv += ["--log-level", "DEBUG", "capture", "--profile", "Emu"]
        argv += ["--status-every", "0.3", *args]
        if stdin is not None:
            argv.append("--secrets-stdin")
        self.log = folder.parent / f"{name}.stderr"
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env or {**os.environ, **NO_KEYRING},
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(stdin or "")
        self.proc.stdin.close()
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with self.log.open("w") as copy:
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                copy.write(line)
                copy.flush()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def check_running(self) -> None:
        assert self.proc.poll() is None, f"capture exited {self.proc.returncode}:\n{self.text}"

    def statuses(self, since: int = 0) -> list[Status]:
        """The status lines printed after line ``since`` (one sink)."""
        parsed = (parse_status(line) for line in self.lines[since:])
        return [status for status in parsed if status is not None]

    def status(self) -> Status | None:
        """The newest status line; the capture must still run."""
        self.check_running()
        found = self.statuses(max(0, len(self.lines) - 20))
        return found[-1] if found else None

    def wait_status(self, test: object, timeout: float, what: str) -> Status:
        found: list[Status] = []

        def met() -> bool:
            status = self.status()
            if status is not None and test(status):  # type: ignore[operator]
                found.append(status)
            return bool(found)

        wait_until_blocking(met, timeout, f"{what}; last lines:\n" + "\n".join(self.lines[-5:]))
        return found[0]

    def wait_live(self, timeout: float = 30) -> None:
        wait_until_blocking(
            lambda: (
                self.check_running() or all(f"subscribed to {ch}" in self.text for ch in CHANNELS)
            ),
            timeout,
            "every channel live",
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._reader.join(10)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._reader.join(10)
        return code
