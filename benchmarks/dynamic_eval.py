"""Dynamic evaluation of the output layer: bits per character of the development texts as the predictor's
:class:`~assistant.engine.dynamic.HeadLearner` reads them word by word (each chunk scored just before its
gradient step), for a grid of learning rates and chunk lengths, against the network unchanged (rate 0).

    python benchmarks/dynamic_eval.py [--max-words 3000] [--texts wiki,chat,tech,austen] [--grid 0.1:32,0.2:32]

Reads ``../shared/data/eval`` (set ``ASSISTANT_BENCH_DATA``). Shipped base model, int8 as the app runs it, one
thread; also reports the time of a learning call (p50 / p95 ms).
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from adaptive import AUSTEN, GENERAL
from benchdata import require

from assistant.engine.dynamic import DynamicSettings, HeadLearner
from assistant.eval.metrics import latency_percentiles
from assistant.lm.io import load_model
from assistant.lm.quantize import quantize_for_inference
from assistant.shipped import base_model_dir
from assistant.text.words import word_spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-words", type=int, default=3000)
    parser.add_argument("--texts", default="wiki,chat,tech,austen")
    parser.add_argument("--grid", default="0:32,0.1:32,0.2:32,0.3:32,0.2:16,0.2:64", help="rate:chunk,...")
    args = parser.parse_args()
    paths = {t: AUSTEN / "test.txt" if t == "austen" else GENERAL[t] for t in args.texts.split(",")}
    require(list(paths.values()))
    torch.set_num_threads(1)
    lm = load_model(base_model_dir())
    run_model = quantize_for_inference(lm.model)
    grid = [(float(r), int(c)) for r, c in (g.split(":") for g in args.grid.split(","))]
    print("| text | rate | chunk | bits/char | learning call p50 / p95 ms |")
    print("|---|---|---|---|---|")
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        ends = [e for _, e in word_spans(text)[: args.max_words]]
        for rate, chunk in grid:
            learner = HeadLearner(lm.model, run_model, lm.tokenizer, DynamicSettings(learning_rate=rate, chunk=chunk))
            calls: list[float] = []
            for end in ends:
                t0 = time.perf_counter()
                if learner.learn(text[: end + 1]):
                    calls.append((time.perf_counter() - t0) * 1e3)
            bpc = learner.nll / math.log(2) / max(1, len(learner.learned_text))
            lat = latency_percentiles(calls) if calls else {"p50": 0.0, "p95": 0.0}
            print(f"| {name} | {rate} | {chunk} | {bpc:.4f} | {lat['p50']:.1f} / {lat['p95']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
