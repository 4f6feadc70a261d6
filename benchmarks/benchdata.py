"""Where the benchmarks find ../shared/data, and a clear exit when it is not there (a clone without it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHARED = Path(os.environ.get("ASSISTANT_BENCH_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
"""The shared data folder beside the repository (see its README.md), or ``$ASSISTANT_BENCH_DATA`` (a checkout
elsewhere, e.g. a worktree); the tests never read it."""


def require(paths: list[Path]) -> None:
    """Exit non-zero naming every missing file or folder the benchmark needs."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        names = ", ".join(str(p) for p in missing)
        sys.exit(f"benchmark data missing: {names} (the benchmarks read ../shared/data; see its README.md)")


def texts_in(folder: Path) -> list[Path]:
    """The ``.txt`` files of ``folder``, or exit non-zero saying that there are none."""
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if not files:
        sys.exit(f"benchmark data missing: no .txt files in {folder} (the benchmarks read ../shared/data)")
    return files
