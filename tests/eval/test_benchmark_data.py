"""Benchmarks in a clone without ../shared/data say what is missing and exit non-zero (no traceback)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "script",
    [
        "latency.py",
        "quality.py",
        "base_metrics.py",
        "adaptive.py",
        "adaptive_latency.py",
        "fit_mixing.py",
        "personalise.py",
        "neural_cache.py",
    ],
)
def test_a_benchmark_without_the_shared_data_names_what_is_missing(tmp_path: Path, script: str) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(ROOT / "benchmarks", clone / "benchmarks")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(tmp_path / "home")}
    env.pop("ASSISTANT_BENCH_DATA", None)  # the override would point the clone at real data
    proc = subprocess.run(
        [sys.executable, str(clone / "benchmarks" / script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "benchmark data missing" in proc.stderr
    assert str(tmp_path / "shared" / "data") in proc.stderr
    assert "Traceback" not in proc.stderr
