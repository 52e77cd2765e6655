"""Giving memory back to the system after a flood.

A backlog of a million events passes through the process as rows buffered for the writer
and replies parsed by the client: a few hundred MB, all freed once stored. Python hands
freed blocks to the C allocator, and glibc's keeps them for reuse instead of returning
them, so the process stayed at ~5x its idle size for ever. ``malloc_trim`` returns free
pages to the system; it is called once a flood has drained (``StoreWriter``). Elsewhere
(macOS, Windows, musl) this does nothing: their allocators return memory on their own or
offer no such call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Callable


def _load_trim() -> Callable[[int], int] | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_trim = _load_trim()


def release_free_memory() -> bool:
    """Return the C allocator's free memory to the system; False where unsupported."""
    if _trim is None:
        return False
    _trim(0)
    return True
