"""The process heap: blocks of a megabyte or more get their own mappings, so what a rebuild frees goes back,
and the holes a bulk step leaves in the heap are given back after it.

glibc serves a large ``malloc`` from its own mapping only while the block is above a threshold that it raises
each time such a block is freed (up to 32 MB). A process that builds big numpy arrays again and again (the
personal memory's index after every saved document, the document memory of a long text) therefore soon
gets them from the heap, where small objects allocated meanwhile pin the freed space: measured on a 1 M-word
personal memory, loading it grew the process by 155 MB with the moving threshold and by 92 MB with a fixed one
(docs/benchmarks.md). Elsewhere (macOS, musl, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import math
import sys
import time
from typing import Any

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter for the size from which blocks are mapped (``malloc.h``)."""

LARGE_BLOCK = 1 << 20
"""Blocks of at least this many bytes are mapped on their own (and unmapped when freed)."""


@functools.cache
def _glibc(name: str, *argtypes: Any) -> Any:
    """The C library's function ``name`` returning an int, or None off Linux or without glibc (looked up once)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # not glibc (or no C library to ask)
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


def return_large_blocks() -> bool:
    """Fix glibc's mapping threshold at :data:`LARGE_BLOCK` for this process; whether it was set."""
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))


BULK_WORDS = 2000
"""A step that reads at least this many words at once (opening a document, building a memory's index) is a bulk
step: the free memory it leaves is given back at once after it."""

RELEASE_WORDS = 100
"""While a text grows by typing, the free heap is given back every this many words (the search's and the
network's small temporary buffers leave holes too: 20-40 MB over 1,000 keystrokes of a long document)."""

RELEASE_INTERVAL_S = 1.0
"""Outside bulk steps, at most once a second for the whole process (a chat bot has one text per user)."""

_released = -math.inf


def release_free(bulk: bool = False) -> bool:
    """Give the free pages inside the heap back to the system (glibc's ``malloc_trim``), whose small holes no
    later allocation of that size fills; whether it ran. Costs 2-5 ms with a 450 MB process: after a ``bulk``
    step, else at most once per :data:`RELEASE_INTERVAL_S`."""
    global _released
    now = time.monotonic()
    trim = _glibc("malloc_trim", ctypes.c_size_t)
    if trim is None or (not bulk and now - _released < RELEASE_INTERVAL_S):
        return False
    trim(0)
    _released = now
    return True
