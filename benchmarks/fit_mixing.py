"""Fit the constants of the document memory and the mixing on the development texts, by coordinate search.

    python benchmarks/fit_mixing.py [--max-words 2000] [--rounds 2] [--ngram DIR] [--json OUT]

How: the objective is the mean KSR@3 (docs/design.md's replay) over the first ``--max-words`` words of
``wiki_heldout``, ``chat_heldout``, ``tech_heldout`` (document memory only) and the Austen ``test.txt`` with
``train_small.txt`` as the personal memory (all in ../shared/data/eval/). Starting from the defaults in
``assistant/engine/{memory/document,mixing}.py``, each round tries every listed value of each constant in turn with the
others fixed and keeps the best. The GRU's side of every keystroke (word search, prefix share, word scores) does
not depend on these constants, so it is computed once per text and replayed from a memo; a trial costs only the
memories and the mixing. With ``--ngram`` (an n-gram folder, e.g. ``models/base/ngram``) the general n-gram is a
source on every text and its prior is fitted too. The result is printed for copying into the defaults; nothing
is set per text.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
from adaptive import AUSTEN, GENERAL
from benchdata import require

from assistant.engine.memory import DocMemorySettings
from assistant.engine.mixing import MixSettings
from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import Predictor
from assistant.eval.metrics import keystroke_savings
from assistant.lm.io import load_model
from assistant.personal.memory import PersonalMemory
from assistant.shipped import base_model_dir

GRID: dict[str, list[Any]] = {
    "doc.decay": [0.95, 0.98, 0.99, 0.995, 0.999],
    "doc.recency": [0.0, 0.25, 0.5, 0.75, 1.0],
    "doc.bigram_strength": [0.5, 1.0, 2.0, 4.0],
    "mix.window": [50, 100, 200, 400],
    "mix.prior_words": [5.0, 10.0, 20.0, 50.0],
    "mix.prior_doc": [0.05, 0.1, 0.2, 0.3],
    "mix.prior_personal": [0.05, 0.1, 0.2, 0.3],
    "mix.prior_ngram": [0.05, 0.1, 0.2, 0.3],
}


class MemoSearch:
    """The word search of one predictor, answering repeated (context, tail) questions from a memo."""

    def __init__(self, predictor: Predictor) -> None:
        self.inner = predictor.search
        self.cache = predictor.cache
        self.memo: dict[tuple[str, str, int, int], tuple[list[Any], float]] = {}
        self.prefix_share = 1.0
        self.index = self.inner.index

    def candidates(self, logprobs, hidden, tail, n=5, extra=0):  # type: ignore[no-untyped-def]
        key = (self.cache._text, tail, n, extra)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = (self.inner.candidates(logprobs, hidden, tail, n, extra), self.inner.prefix_share)
        self.prefix_share = found[1]
        return found[0]


def settings_of(params: dict[str, Any]) -> tuple[DocMemorySettings, MixSettings]:
    doc = DocMemorySettings(
        decay=params["doc.decay"], recency=params["doc.recency"], bigram_strength=params["doc.bigram_strength"]
    )
    mix = MixSettings(
        window=int(params["mix.window"]),
        prior_words=params["mix.prior_words"],
        prior=(
            1 - params["mix.prior_doc"] - params["mix.prior_personal"],
            params["mix.prior_doc"],
            params["mix.prior_personal"],
            params["mix.prior_ngram"],
        ),
    )
    return doc, mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--max-words", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ngram", type=Path, default=None, help="an n-gram folder: fit with it as a source")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    ngram = NgramSource(args.ngram) if args.ngram else None
    if ngram is None:
        GRID.pop("mix.prior_ngram")
    require([*GENERAL.values(), AUSTEN / "test.txt", AUSTEN / "train_small.txt"])
    torch.set_num_threads(1)
    lm = load_model(args.model or base_model_dir())
    base = Predictor(lm)
    search = MemoSearch(base)
    personal = PersonalMemory.from_files([AUSTEN / "train_small.txt"])
    texts = [(GENERAL[t].read_text(encoding="utf-8"), None) for t in ("wiki", "chat", "tech")]
    texts.append(((AUSTEN / "test.txt").read_text(encoding="utf-8"), personal))
    d, m = DocMemorySettings(), MixSettings()
    params: dict[str, Any] = {
        "doc.decay": d.decay,
        "doc.recency": d.recency,
        "doc.bigram_strength": d.bigram_strength,
        "mix.window": m.window,
        "mix.prior_words": m.prior_words,
        "mix.prior_doc": m.prior[1],
        "mix.prior_personal": m.prior[2],
        "mix.prior_ngram": m.prior_of(4)[3],
    }

    def score(p: dict[str, Any]) -> tuple[float, list[float]]:
        doc, mix = settings_of(p)
        per = []
        for text, memory in texts:
            predictor = Predictor(lm, model=base.model, memory=doc, mixing=mix, personal=memory, ngram=ngram)
            predictor.cache, predictor.search = base.cache, search  # type: ignore[assignment]
            base.cache.reset()
            per.append(keystroke_savings(predictor, text, ns=(3,), max_words=args.max_words, ghost=False).ksr(3))
        return sum(per) / len(per), per

    static = []
    for text, _ in texts:
        predictor = Predictor(lm, model=base.model, adaptive=False)
        static.append(keystroke_savings(predictor, text, ns=(3,), max_words=args.max_words, ghost=False).ksr(3))
    print("static KSR@3 (wiki, chat, tech, austen):", [round(s, 4) for s in static], flush=True)
    best, per = score(params)
    print(f"defaults: {best:.4f} {[round(s, 4) for s in per]}", flush=True)
    for _ in range(args.rounds):
        for name, values in GRID.items():
            for v in values:
                if v == params[name]:
                    continue
                trial = {**params, name: v}
                s, p = score(trial)
                print(f"  {name}={v}: {s:.4f} {[round(x, 4) for x in p]}", flush=True)
                if s > best + 1e-4:
                    best, per, params = s, p, trial
            print(f"{name} -> {params[name]} (mean KSR@3 {best:.4f})", flush=True)
    doc, mix = settings_of(params)
    result = {"mean_ksr3": round(best, 4), "per_text": [round(x, 4) for x in per], "static": static}
    result |= {"doc": asdict(doc), "mix": asdict(replace(mix))}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
