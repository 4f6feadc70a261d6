"""Personalisation gain: fine-tune the base model on an author's documents, measure before and after.

    python benchmarks/personalise.py [--max-words N] [--threads 1] [--json OUT]

Reads ../shared/data/eval/personal/austen/ (train_small.txt: 20k words, train.txt: 160k words, test.txt held
out) and ../shared/data/eval/general/*.txt (forgetting). Each run uses a fresh temporary ASSISTANT_HOME.
Reports KSR@3, accuracy@1 and bits per character on test.txt before and after, the bits-per-character change on
the general texts, and the fine-tuning wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchdata import require, texts_in

from assistant.personal.evaluation import run_eval
from assistant.shipped import base_model_dir
from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry
from assistant.store.paths import Paths
from assistant.train.finetune import FinetuneConfig, finetune

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eval"
AUTHOR = SHARED / "personal" / "austen"
GENERAL = sorted((SHARED / "general").glob("*.txt"))


def measure(model_dir: Path | None, max_words: int | None) -> dict[str, object]:
    test = run_eval([AUTHOR / "test.txt"], model_dir=model_dir, max_words=max_words, progress=False)
    general = run_eval(GENERAL, model_dir=model_dir, max_words=2000, progress=False)
    return {
        "ksr3": test["ksr"]["3"],
        "acc1": test["accuracy"]["1"],
        "bpc": test["bpc"],
        "general_bpc": general["bpc"],
        "words": test["words"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-words", type=int, default=5000, help="words of test.txt replayed (0 = all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=["train_small", "train"])
    parser.add_argument("--regulariser", choices=["l2", "kl", "none"], default=None)
    parser.add_argument("--anchor-weight", type=float, default=None)
    parser.add_argument("--kl-weight", type=float, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--skip-base", action="store_true", help="do not re-measure the base model")
    args = parser.parse_args()
    require([AUTHOR / "test.txt", AUTHOR / "train_small.txt", AUTHOR / "train.txt"])
    texts_in(SHARED / "general")
    max_words = args.max_words or None
    overrides = {
        k: v
        for k, v in {
            "regulariser": args.regulariser,
            "anchor_weight": args.anchor_weight,
            "kl_weight": args.kl_weight,
            "lr": args.lr,
            "epochs": args.epochs,
        }.items()
        if v is not None
    }
    config = FinetuneConfig(threads=args.threads, **overrides)
    print("config", config, flush=True)
    base = (
        {"ksr3": 0.0, "acc1": 0.0, "bpc": 0.0, "general_bpc": 0.0}
        if args.skip_base
        else measure(base_model_dir(), max_words)
    )
    print("base", json.dumps(base), flush=True)
    results: dict[str, object] = {"base": base, "config": repr(config)}
    for name in ("train_small", "train"):
        if args.only and args.only != name:
            continue
        with tempfile.TemporaryDirectory() as home:
            os.environ["ASSISTANT_HOME"] = home
            paths = Paths.default()
            store = DocumentStore(paths.documents)
            store.import_paths([AUTHOR / f"{name}.txt"], max_bytes=10_000_000)
            registry = ModelRegistry(paths.models, base_model_dir())
            docs = {d.name: store.read(d.name) for d in store.list()}
            t0 = time.time()
            outcome = finetune(
                registry,
                docs,
                paths.ensure(paths.cache / "finetune"),
                config,
                log=lambda m: print("  ", m, flush=True),
            )
            wall = time.time() - t0
            after = measure(registry.folder(registry.active_name()), max_words)
            results[name] = {
                "outcome": outcome.message,
                "wall_seconds": round(wall, 1),
                "metrics": outcome.version.metrics if outcome.version else None,
                "after": after,
            }
            print(name, json.dumps(results[name]), flush=True)
    print("| run | KSR@3 test | acc@1 test | bpc test | bpc general | fine-tune wall |")
    print("|---|---|---|---|---|---|")
    print(f"| base | {base['ksr3']:.3f} | {base['acc1']:.3f} | {base['bpc']:.3f} | {base['general_bpc']:.3f} | - |")
    for name in ("train_small", "train"):
        r = results.get(name)
        if r:
            a = r["after"]
            print(
                f"| {name} | {a['ksr3']:.3f} | {a['acc1']:.3f} | {a['bpc']:.3f} | {a['general_bpc']:.3f} | "
                f"{r['wall_seconds']:.0f} s |"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
