"""Quality of the GRU predictor against the Kneser-Ney n-gram baseline, measured the same way on the same texts.

    python benchmarks/quality.py [--model DIR] [--max-words N] [--only gru|ngram] [--json OUT]

Reads ../shared/data/eval/general/*.txt (evaluation) and ../shared/data/train/ (the n-gram's training text,
the same mix as the base model's). Metrics are docs/design.md's: KSR@1/3/5, next-word accuracy@1/3, bits per char.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchdata import SHARED, require, texts_in

from assistant.personal.evaluation import run_eval

EVAL_DIR = SHARED / "eval" / "general"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--max-words", type=int, default=None)
    parser.add_argument("--only", choices=["gru", "ngram"], default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    files = texts_in(EVAL_DIR)
    if args.only != "gru":
        require([SHARED / "train"])
    rows: dict[str, dict[str, object]] = {}
    for path in files:
        for name, baseline in (("gru", None), ("ngram", "ngram")):
            if args.only and args.only != name:
                continue
            rows[f"{path.stem} {name}"] = run_eval(
                [path], model_dir=args.model, baseline=baseline, max_words=args.max_words, progress=True
            )
    print("| text | predictor | words | KSR@1 | KSR@3 | KSR@5 | acc@1 | acc@3 | bits/char |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, r in rows.items():
        text, name = key.rsplit(" ", 1)
        ksr, acc = r["ksr"], r["accuracy"]
        bpc = "n/a" if r["bpc"] is None else f"{r['bpc']:.3f}"
        print(
            f"| {text} | {name} | {r['words']:,} | {ksr['1']:.3f} | {ksr['3']:.3f} | {ksr['5']:.3f} | "
            f"{acc['1']:.3f} | {acc['3']:.3f} | {bpc} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
