"""Bits per character with and without the neural cache on the development texts, over a grid of its constants.

    python benchmarks/neural_cache.py [--max-words 5000] [--theta 0.1,0.3] [--weight 0.1,0.2] [--size 500,1000]

Reads ../shared/data/eval/general/{wiki,chat,tech}_heldout.txt and ../shared/data/eval/personal/austen/test.txt
(the first --max-words words of each, read from its start). Prints a Markdown table and, with --json, writes it.
The network runs in float (bits per character are measured on the float weights, as ``assistant eval`` does).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import torch
from adaptive import AUSTEN, GENERAL
from benchdata import require

from assistant.engine.neuralcache import NeuralCacheSettings
from assistant.eval.metrics import text_bpc, text_bpc_cached
from assistant.lm.io import load_model
from assistant.shipped import base_model_dir
from assistant.text.words import word_spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--max-words", type=int, default=5000, help="words of each text (0: all)")
    parser.add_argument("--theta", default="0.1,0.3,0.5")
    parser.add_argument("--weight", default="0.05,0.1,0.2")
    parser.add_argument("--size", default="1000")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    paths = {**GENERAL, "austen": AUSTEN / "test.txt"}
    require(list(paths.values()))
    torch.set_num_threads(1)
    lm = load_model(args.model or base_model_dir())
    texts = {}
    for name, path in paths.items():
        text = path.read_text(encoding="utf-8")
        spans = word_spans(text)
        if args.max_words and len(spans) > args.max_words:
            text = text[: spans[args.max_words - 1][1]]
        texts[name] = text
    rows: dict[str, dict[str, float]] = {"none": {n: text_bpc(lm.model, lm.tokenizer, t) for n, t in texts.items()}}
    grid = itertools.product(
        [float(x) for x in args.theta.split(",")],
        [float(x) for x in args.weight.split(",")],
        [int(x) for x in args.size.split(",")],
    )
    print("| cache | " + " | ".join(texts) + " | mean |")
    print("|---|" + "---|" * (len(texts) + 1))

    def show(name: str, row: dict[str, float]) -> None:
        cells = " | ".join(f"{row[n]:.4f}" for n in texts)
        print(f"| {name} | {cells} | {sum(row.values()) / len(row):.4f} |", flush=True)

    show("none", rows["none"])
    for theta, weight, size in grid:
        settings = NeuralCacheSettings(weight=weight, theta=theta, size=size)
        name = f"theta {theta} weight {weight} size {size}"
        rows[name] = {n: text_bpc_cached(lm.model, lm.tokenizer, t, settings) for n, t in texts.items()}
        show(name, rows[name])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
