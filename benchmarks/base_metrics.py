"""Base-model quality on the development evaluation texts: bits per character and next-word accuracy@1/@3.

    python benchmarks/base_metrics.py [--model DIR] [--max-words N] [--json OUT]

Reads ../shared/data/eval/general/*.txt (never trained on). Definitions are docs/design.md's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from benchdata import texts_in
from rich.progress import Progress

from assistant.eval.metrics import next_word_accuracy, percentile, text_bpc
from assistant.personal.models import ModelProvider, make_predictor
from assistant.shipped import base_model_dir
from assistant.text.words import count_words

EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eval" / "general"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--max-words", type=int, default=None, help="accuracy on the first N words of each text")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    files = texts_in(args.eval_dir)
    torch.set_num_threads(1)
    loaded = ModelProvider().folder(args.model or base_model_dir())
    lm = loaded.lm
    results = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        t0 = time.perf_counter()
        bpc = text_bpc(lm.model, lm.tokenizer, text)
        predictor = make_predictor(loaded, adaptive=False)  # the base model card: the bare model
        total = min(count_words(text), args.max_words or 10**9)
        with Progress() as bar:
            task = bar.add_task(path.name, total=total)
            acc = next_word_accuracy(
                predictor, text, max_words=args.max_words, progress=lambda k, t=task: bar.advance(t, k)
            )
        results[path.stem] = {
            "words": acc.words,
            "bpc": round(bpc, 4),
            "accuracy": {"1": round(acc.accuracy(1), 4), "3": round(acc.accuracy(3), 4)},
            "latency_ms": {
                "p50": round(percentile(acc.latencies_ms, 50), 2),
                "p95": round(percentile(acc.latencies_ms, 95), 2),
            },
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(path.stem, json.dumps(results[path.stem]), flush=True)
    print("| text | words | bits/char | accuracy@1 | accuracy@3 |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['words']:,} | {r['bpc']:.3f} | {r['accuracy']['1']:.3f} | {r['accuracy']['3']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
