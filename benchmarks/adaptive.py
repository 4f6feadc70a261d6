"""Adaptive prediction: static GRU against + document memory, + personal memory, and both, per text.

    python benchmarks/adaptive.py [--model DIR] [--max-words N] [--texts wiki,chat,tech,austen] [--json OUT]

Reads ../shared/data/eval/general/{wiki,chat,tech}_heldout.txt and ../shared/data/eval/personal/austen/
(test.txt replayed; train_small.txt and train.txt as the personal documents, never the user's store). Each
replay types the text from its start (docs/design.md's keystroke accounting), so the memories learn as it goes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from benchdata import SHARED, require

from assistant.engine.mixing import MixSettings
from assistant.engine.predictor import Predictor
from assistant.eval.metrics import keystroke_savings, latency_percentiles
from assistant.lm.io import load_model
from assistant.personal.memory import PersonalMemory
from assistant.shipped import base_model_dir

DATA = SHARED / "eval"
GENERAL = {t: DATA / "general" / f"{t}_heldout.txt" for t in ("wiki", "chat", "tech")}
AUSTEN = DATA / "personal" / "austen"


def modes(mixing: MixSettings, personal: dict[str, PersonalMemory]) -> dict[str, tuple[bool, MixSettings, object]]:
    """Mode name -> (adaptive, mixing settings, personal memory)."""
    m, d, p = mixing.prior
    only_doc = MixSettings(**{**mixing.__dict__, "prior": (m, d, 0.0)})
    only_personal = MixSettings(**{**mixing.__dict__, "prior": (m, 0.0, p)})
    out: dict[str, tuple[bool, MixSettings, object]] = {
        "static": (False, mixing, None),
        "+doc": (True, only_doc, None),
    }
    for name, memory in personal.items():
        out[f"+personal {name}"] = (True, only_personal, memory)
        out[f"all {name}"] = (True, mixing, memory)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--max-words", type=int, default=3000, help="words of each text replayed (0: all)")
    parser.add_argument("--texts", default="wiki,chat,tech,austen")
    parser.add_argument("--modes", default=None, help="comma-separated subset of the modes")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    texts = args.texts.split(",")
    needed = [GENERAL[t] for t in texts if t in GENERAL]
    if "austen" in texts:
        needed += [AUSTEN / "test.txt", AUSTEN / "train_small.txt", AUSTEN / "train.txt"]
    require(needed)
    torch.set_num_threads(1)
    lm = load_model(args.model or base_model_dir())
    model = Predictor(lm).model  # one quantised copy for every predictor
    rows: dict[str, dict[str, object]] = {}
    print("| text | mode | words | KSR@1 | KSR@3 | KSR@5 | acc@1 | acc@3 | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in texts:
        if name == "austen":
            path = AUSTEN / "test.txt"
            personal = {
                f.stem: PersonalMemory.from_files([f]) for f in (AUSTEN / "train_small.txt", AUSTEN / "train.txt")
            }
        else:
            path, personal = GENERAL[name], {}
        text = path.read_text(encoding="utf-8")
        for mode, (adaptive, mixing, memory) in modes(MixSettings(), personal).items():
            if args.modes and mode.split(" ")[0] not in args.modes.split(","):
                continue
            predictor = Predictor(lm, model=model, adaptive=adaptive, mixing=mixing, personal=memory)  # type: ignore[arg-type]
            t0 = time.perf_counter()
            r = keystroke_savings(predictor, text, max_words=args.max_words or None)
            row = {
                "words": r.words,
                "ksr": {str(n): round(r.ksr(n), 4) for n in (1, 3, 5)},
                "accuracy": {str(k): round(v / max(1, r.words), 4) for k, v in r.first_hits.items()},
                "latency_ms": latency_percentiles(r.latencies_ms),
                "wall_s": round(time.perf_counter() - t0, 1),
            }
            rows[f"{name} {mode}"] = row
            k, a = row["ksr"], row["accuracy"]
            print(
                f"| {name} | {mode} | {r.words:,} | {k['1']:.3f} | {k['3']:.3f} | {k['5']:.3f} | "
                f"{a['1']:.3f} | {a['3']:.3f} | {row['latency_ms']['p95']:.2f} |",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
