"""The process heap gives freed memory back to the system: large blocks (glibc's mapping threshold fixed) and
the holes small ones leave (``malloc_trim`` after bulk steps, at most once a second otherwise)."""

from __future__ import annotations

import subprocess
import sys

import pytest

RSS_MB = """
from pathlib import Path
def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
"""

SCRIPT = (
    RSS_MB
    + """
import gc, sys
import numpy as np
if sys.argv[1] == "fixed":
    from assistant.heap import return_large_blocks
    assert return_large_blocks()
kept = []
before = rss_mb()
for round_ in range(3):  # a rebuild's big arrays, then small objects that outlive them
    big = [np.ones(2_000_000 // (1 + round_ % 2)) for _ in range(20)]
    kept.append([object() for _ in range(1000)])
    del big
    gc.collect()
print(rss_mb() - before)
"""
)


def _growth(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_large_blocks_leave_the_process() -> None:
    fixed = _growth("fixed")
    assert fixed < 50, f"the process kept {fixed:.0f} MB of freed arrays"
    moving = _growth("moving")  # glibc's own threshold: the same work keeps hundreds of MB
    assert moving > fixed + 100


HOLES = (
    RSS_MB
    + """
import gc
from assistant.heap import release_free
before = rss_mb()
blocks = [bytearray(4000) for _ in range(40_000)]  # 160 MB of small blocks from the heap
kept = blocks[::50]  # one in fifty outlives the rest: the heap cannot shrink from its top
del blocks
gc.collect()
held = rss_mb() - before
assert release_free(bulk=True)
again = release_free()  # within the second: not again
print(held, rss_mb() - before, again)
"""
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_the_holes_of_a_bulk_step_go_back_and_not_more_than_once_a_second() -> None:
    done = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True, check=True)
    held, after, again = done.stdout.split()
    assert float(held) > 100 and float(after) < 40 and again == "False"
