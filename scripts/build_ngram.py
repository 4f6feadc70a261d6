"""Build the compact general n-gram shipped in models/base/ngram/: a Kneser-Ney word 4-gram on the training mix,
count-pruned until it fits a size budget.

    python scripts/build_ngram.py [--data ../shared/data/train] [--order 4] [--max-mb 30] [--out models/base/ngram]

The mix: every ``*.txt`` of ``--data`` with the weight ``scripts/mix_sources.json`` gives its source (copies
per epoch; a fraction takes that share of the paragraphs, seed 1234), as the base model's training
(``assistant.personal.evaluation.mixed_paragraphs``). Vocabulary: the 65,000 most frequent words seen at least
twice. Pruning: the n-grams of orders 2, 3, 4 with counts under the first schedule step that fits ``--max-mb``
are dropped (their mass backs off to the lower order). Deterministic: the same data gives the same files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.engine.ngram import KneserNeyModel  # noqa: E402
from assistant.personal.evaluation import mixed_paragraphs  # noqa: E402

SCHEDULE = [
    (1, 2, 2),
    (2, 2, 2),
    (2, 2, 3),
    (2, 3, 3),
    (3, 3, 3),
    (3, 4, 4),
    (4, 5, 5),
    (5, 6, 6),
    (6, 8, 8),
    (8, 10, 10),
]
"""Minimum counts of (bigrams, trigrams, 4-grams) tried in turn; the first that fits is kept."""


def size_mb(model: KneserNeyModel) -> float:
    """Bytes of the arrays and the vocabulary, in MB."""
    total = model.unigram.nbytes + sum(len(w.encode("utf-8")) + 1 for w in model.vocab)
    for t in model.orders:
        total += sum(a.nbytes for a in (t.keys, t.counts, t.ctx_keys, t.ctx_total, t.ctx_gamma_mass, t.discounts))
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "train")
    parser.add_argument("--sources", type=Path, default=ROOT / "scripts" / "mix_sources.json")
    parser.add_argument("--order", type=int, default=4)
    parser.add_argument("--max-mb", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "base" / "ngram")
    args = parser.parse_args()
    files = sorted(args.data.glob("*.txt"))
    if not files:
        sys.exit(f"no training texts in {args.data}")
    sources = json.loads(args.sources.read_text(encoding="utf-8"))["sources"]
    weights = {s["name"]: float(s["weight"]) for s in sources}
    t0 = time.perf_counter()
    paras = mixed_paragraphs(files, weights)
    full = KneserNeyModel.train(paras, order=args.order)
    print(
        f"trained on {len(paras):,} paragraphs in {time.perf_counter() - t0:.0f} s: {size_mb(full):.1f} MB", flush=True
    )
    for step in SCHEDULE:
        mins = step[: args.order - 1]
        pruned = full.prune(mins)
        mb = size_mb(pruned)
        grams = [len(t.keys) for t in pruned.orders]
        print(f"min counts {mins}: {mb:.1f} MB, n-grams per order {grams}", flush=True)
        if mb <= args.max_mb:
            break
    else:
        sys.exit(f"no pruning step fits {args.max_mb} MB")
    info = {
        "trained_on": sorted(f.name for f in files),
        "weights": {f.stem: weights.get(f.stem, 1.0) for f in files},
        "paragraphs": len(paras),
        "vocabulary": len(full.vocab) - 2,
        "min_counts": list(mins),
        "ngrams": grams,
        "full_mb": round(size_mb(full), 1),
        "mb": round(mb, 1),
        "command": "python scripts/build_ngram.py " + " ".join(sys.argv[1:]),
    }
    pruned.save_folder(args.out, info)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
