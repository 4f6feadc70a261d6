"""Keystroke latency of the predictor: replay typing a text character by character on one CPU thread.

    python benchmarks/latency.py [--model DIR] [--chars N] [--float] [--static] [FILE ...]

Default texts: ../shared/data/eval/general/*.txt (first --chars characters of each). Reports p50/p95/p99 of
``Predictor.suggest`` (words and phrase), the share of time in the model, the word search and the rest
(context bookkeeping, lexicon, phrase logic: Python overhead), and the process's resident memory.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from benchdata import SHARED, require, texts_in

from assistant.eval.metrics import percentile
from assistant.personal.models import ModelProvider, make_predictor
from assistant.shipped import base_model_dir

EVAL_DIR = SHARED / "eval" / "general"


def rss_mb() -> float:
    """Resident set size of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Timers:
    """Wall time spent inside wrapped callables (instrumentation of the real objects)."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self._depth: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth[name] += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth[name] -= 1
                if self._depth[name] == 0:
                    dt = time.perf_counter() - t0
                    self.total[name] += dt
                    if name == "model" and self._depth["search"] > 0:
                        self.total["model_in_search"] += dt

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--chars", type=int, default=20_000, help="characters typed from each text")
    parser.add_argument("--float", action="store_true", help="float32 weights instead of int8")
    parser.add_argument("--static", action="store_true", help="the bare model, without the document memory")
    args = parser.parse_args()
    torch.set_num_threads(1)
    files = args.files or texts_in(EVAL_DIR)
    require(files)
    base_rss = rss_mb()
    loaded = ModelProvider(quantize=not args.float).folder(args.model or base_model_dir())
    predictor = make_predictor(loaded, adaptive=not args.static)  # as every front end builds it
    loaded_rss = rss_mb()
    timers = Timers()
    model = predictor.model
    for name in ("step", "advance", "advance_state", "next_logprobs"):
        setattr(model, name, timers.wrap("model", getattr(model, name)))
    predictor.search.candidates = timers.wrap("search", predictor.search.candidates)
    latencies: list[float] = []
    started = time.perf_counter()
    for path in files:
        text = path.read_text(encoding="utf-8")[: args.chars]
        predictor.reset()
        for i in range(1, len(text) + 1):
            t0 = time.perf_counter()
            predictor.suggest(text[:i])
            latencies.append((time.perf_counter() - t0) * 1e3)
    wall = time.perf_counter() - started
    model_s = timers.total["model"]
    search_python = max(0.0, timers.total["search"] - timers.total["model_in_search"])
    result = {
        "keystrokes": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "mean_ms": round(sum(latencies) / len(latencies), 3),
        "share_model": round(model_s / wall, 3),
        "share_search_python": round(search_python / wall, 3),
        "share_other_python": round(max(0.0, 1 - (model_s + search_python) / wall), 3),
        "rss_mb_before_load": round(base_rss, 1),
        "rss_mb_loaded": round(loaded_rss, 1),
        "rss_mb_after_replay": round(rss_mb(), 1),
        "weights": "float32" if args.float else "int8 dynamic",
        "mode": "static" if args.static else "adaptive",
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
