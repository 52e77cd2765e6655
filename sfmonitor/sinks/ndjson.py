"""The NDJSON sink: export records, one a line, appended to a file (or standard output).

Each line is exactly the record ``sfmonitor`` exports (so ``import`` reads the file back).
fsync policy: a batch is written and ``fsync``-ed before it counts as acknowledged, so a
cursor never runs ahead of what is on disk; standard output is flushed only. A crash in the
middle of a batch can leave a torn last line: ``open`` cuts it off (that event was never
acknowledged and is written again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .base import SinkError, SinkRefusedError
from .outbox import OutboxRecord
from .urls import NdjsonSpec

log = logging.getLogger(__name__)
_TAIL_CHUNK = 1 << 16


def cut_torn_line(fd: int) -> int:
    """Truncate a last line that has no newline (a write cut short); returns the bytes cut."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return 0
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            keep = start + newline + 1
            os.ftruncate(fd, keep)
            return size - keep
        end = start
    os.ftruncate(fd, 0)
    return size


class NdjsonSink:
    """Appends records to ``spec.path``; blocking file calls run on a worker thread."""

    def __init__(self, spec: NdjsonSpec) -> None:
        self.spec = spec
        self.name = spec.url
        self._fd: int | None = None

    async def open(self) -> None:
        if self.spec.path is None:
            return
        try:
            self._fd = await asyncio.to_thread(self._open_file, self.spec.path)
        except OSError as exc:
            raise SinkError(f"{self.name}: cannot open {self.spec.path}: {exc.strerror}") from None

    @staticmethod
    def _open_file(path: Path) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            cut = cut_torn_line(fd)
        except OSError:
            os.close(fd)
            raise
        if cut:
            log.warning("%s: cut a torn last line of %d bytes (written again now)", path, cut)
        return fd

    async def write(self, batch: Sequence[OutboxRecord]) -> None:
        data = "".join(f"{r.record}\n" for r in batch).encode("utf-8", "replace")
        if self._fd is None:
            self._write_stdout(data)
            return
        try:
            await asyncio.to_thread(self._write_file, self._fd, data)
        except OSError as exc:
            raise SinkError(f"{self.name}: cannot write: {exc.strerror}") from None

    @staticmethod
    def _write_file(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)

    def _write_stdout(self, data: bytes) -> None:
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise SinkRefusedError(f"{self.name}: the reader of standard output left") from None

    async def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)
