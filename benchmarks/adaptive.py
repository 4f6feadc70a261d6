"""Adaptive prediction per text: the static GRU, each source alone, all together, and (Austen) fine-tune + memories.

    python benchmarks/adaptive.py [--model DIR] [--max-words N] [--texts wiki,chat,tech,austen] [--modes ...]
        [--ngram DIR] [--finetune train|train_small] [--finetune-epochs 1] [--json OUT]

Reads ../shared/data/eval/general/{wiki,chat,tech}_heldout.txt and ../shared/data/eval/personal/austen/
(test.txt replayed; train_small.txt and train.txt as the personal documents, never the user's store). Each
replay types the text from its start (docs/design.md's keystroke accounting; the whole text unless --max-words), so
the memories learn as it goes. Sources: ``doc`` (document memory), ``personal`` (Austen), ``neural`` (the neural
cache inside the GRU's source), ``ngram`` (the general n-gram, ``--ngram`` or the one beside the model). Each row
also gives the ghost text (``eval``'s figures), bits per character where the row has a character model (the GRU,
with the neural cache when on) and the replay's keystroke latency (a busy machine makes it no latency figure;
``benchmarks/adaptive_latency.py`` measures that). ``--finetune`` adds the rows "fine-tune + ...": the
project's personal fine-tune (``assistant.train.finetune``) on that file in a temporary ASSISTANT_HOME, then the
replays over the tuned network (``--modes`` picks among them too, by their names).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from benchdata import SHARED, require
from finetuning import finetuned

from assistant.engine.dynamic import DynamicSettings
from assistant.engine.mixing import MixSettings
from assistant.engine.neuralcache import NeuralCacheSettings
from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import Predictor
from assistant.eval.metrics import keystroke_savings, latency_percentiles, text_bpc, text_bpc_cached
from assistant.lm.io import LoadedModel, load_model
from assistant.personal.memory import PersonalMemory
from assistant.shipped import base_model_dir
from assistant.text.words import word_spans

DATA = SHARED / "eval"
GENERAL = {t: DATA / "general" / f"{t}_heldout.txt" for t in ("wiki", "chat", "tech")}
AUSTEN = DATA / "personal" / "austen"
NEURAL = NeuralCacheSettings()


@dataclass(frozen=True)
class Mode:
    """One row's sources."""

    adaptive: bool
    sources: tuple[str, ...] = ()
    """Of ``doc``, ``personal``, ``neural``, ``ngram``, ``dynamic``."""
    personal: str | None = None
    """Which Austen file is the personal memory."""


def modes(personal: list[str]) -> dict[str, Mode]:
    """Row name -> sources: static, each source alone, the memories (main's default), all, all but one."""
    out = {
        "static": Mode(False),
        "+doc": Mode(True, ("doc",)),
        "+neural": Mode(True, ("neural",)),
        "+ngram": Mode(True, ("ngram",)),
    }
    if not personal:
        out["all"] = Mode(True, ("doc", "neural", "ngram"))
        out["all -neural"] = Mode(True, ("doc", "ngram"))
        out["all -ngram"] = Mode(True, ("doc", "neural"))
    for name in personal:
        out[f"+personal {name}"] = Mode(True, ("personal",), name)
        out[f"memories {name}"] = Mode(True, ("doc", "personal"), name)
        out[f"all {name}"] = Mode(True, ("doc", "personal", "neural", "ngram"), name)
        out[f"all -neural {name}"] = Mode(True, ("doc", "personal", "ngram"), name)
        out[f"all -ngram {name}"] = Mode(True, ("doc", "personal", "neural"), name)
    out["+dynamic"] = Mode(True, ("dynamic",))
    for name, mode in list(out.items()):  # each row with the output layer's dynamic evaluation too
        if mode.adaptive and "dynamic" not in mode.sources:
            out[f"{name} +dynamic"] = Mode(True, (*mode.sources, "dynamic"), mode.personal)
    return out


def mixing_for(mode: Mode) -> MixSettings:
    """The default mixing with the sources the mode leaves out switched off."""
    names = {"doc": "document", "personal": "personal", "ngram": "ngram"}
    return MixSettings().only(*(names[s] for s in mode.sources if s in names))


def replay(
    lm: LoadedModel,
    model: torch.nn.Module,
    text: str,
    mode: Mode,
    memories: dict[str, PersonalMemory],
    ngram: NgramSource | None,
    max_words: int | None,
    dynamic: DynamicSettings | None = None,
) -> dict[str, object]:
    """One row: KSR, accuracy, ghost text, bits per character (where meaningful) and the replay's latency."""
    neural = NEURAL if "neural" in mode.sources else None
    dynamic = dynamic or DynamicSettings()
    predictor = Predictor(
        lm,
        model=model,  # type: ignore[arg-type]
        adaptive=mode.adaptive,
        mixing=mixing_for(mode),
        personal=memories.get(mode.personal) if mode.personal else None,  # type: ignore[arg-type]
        neural=neural,
        ngram=ngram if "ngram" in mode.sources else None,
        dynamic=dynamic if "dynamic" in mode.sources else None,
    )
    t0 = time.perf_counter()
    r = keystroke_savings(predictor, text, max_words=max_words)
    wall = time.perf_counter() - t0
    spans = word_spans(text)[: r.words]
    scored = text[: spans[-1][1]] if spans else text
    bpc = None
    if set(mode.sources) <= {"neural"}:  # the GRU alone (with its cache): a character model
        bpc = (
            text_bpc(lm.model, lm.tokenizer, scored)
            if neural is None
            else text_bpc_cached(lm.model, lm.tokenizer, scored, neural)
        )
    return {
        "words": r.words,
        "ksr": {str(n): round(r.ksr(n), 4) for n in (1, 3, 5)},
        "accuracy": {str(k): round(v / max(1, r.words), 4) for k, v in r.first_hits.items()},
        "bpc": None if bpc is None else round(bpc, 4),
        "ghost": r.ghost.to_json() if r.ghost else None,
        "latency_ms": latency_percentiles(r.latencies_ms),
        "idle_ms": latency_percentiles(r.idle_ms) if r.idle_ms else None,
        "idle_calls": len(r.idle_ms),
        "wall_s": round(wall, 1),
    }


def print_row(name: str, mode: str, row: dict[str, object]) -> None:
    k, a, g, lat = row["ksr"], row["accuracy"], row["ghost"] or {}, row["latency_ms"]
    bpc = "-" if row["bpc"] is None else f"{row['bpc']:.3f}"
    print(
        f"| {name} | {mode} | {row['words']:,} | {k['1']:.3f} | {k['3']:.3f} | {k['5']:.3f} | {a['1']:.3f} | "
        f"{bpc} | {g.get('shown', 0):.3f} | {g.get('first_word_right', 0):.3f} | {g.get('all_right', 0):.3f} | "
        f"{g.get('saved_share', 0):.3f} | {lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--max-words", type=int, default=0, help="words of each text replayed (0: all)")
    parser.add_argument("--texts", default="wiki,chat,tech,austen")
    parser.add_argument("--modes", default=None, help="comma-separated row names (e.g. 'static,+doc,all train')")
    parser.add_argument("--personal", default="train_small,train", help="Austen files used as personal memories")
    parser.add_argument("--ngram", type=Path, default=None, help="n-gram folder (default: the model's, if any)")
    parser.add_argument("--finetune", choices=["train", "train_small"], default=None)
    parser.add_argument("--finetune-epochs", type=float, default=None)
    parser.add_argument("--dynamic-lr", type=float, default=DynamicSettings().learning_rate, help="rows with +dynamic")
    parser.add_argument("--dynamic-chunk", type=int, default=DynamicSettings().chunk, help="rows with +dynamic")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    dynamic = DynamicSettings(learning_rate=args.dynamic_lr, chunk=args.dynamic_chunk)
    texts = args.texts.split(",")
    needed = [GENERAL[t] for t in texts if t in GENERAL]
    personal_names = [p for p in args.personal.split(",") if p]
    if "austen" in texts:
        needed += [AUSTEN / "test.txt", *(AUSTEN / f"{p}.txt" for p in personal_names)]
    require(needed)
    torch.set_num_threads(1)
    model_dir = args.model or base_model_dir()
    lm = load_model(model_dir)
    model = Predictor(lm).model  # one quantised copy for every predictor
    ngram = NgramSource(args.ngram) if args.ngram else NgramSource.beside(model_dir)
    wanted = set(args.modes.split(",")) if args.modes else None
    max_words = args.max_words or None
    rows: dict[str, dict[str, object]] = {}
    print(
        "| text | mode | words | KSR@1 | KSR@3 | KSR@5 | acc@1 | bits/char | ghost shown | first right | all right "
        "| Tab saves | replay ms p50 / p95 / p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in texts:
        path = AUSTEN / "test.txt" if name == "austen" else GENERAL[name]
        memories = (
            {p: PersonalMemory.from_files([AUSTEN / f"{p}.txt"]) for p in personal_names} if name == "austen" else {}
        )
        text = path.read_text(encoding="utf-8")
        for mode_name, mode in modes(list(memories)).items():
            if wanted and mode_name not in wanted:
                continue
            if "ngram" in mode.sources and ngram is None:
                print(f"| {name} | {mode_name} | skipped: no n-gram (pass --ngram DIR) |")
                continue
            rows[f"{name} {mode_name}"] = row = replay(lm, model, text, mode, memories, ngram, max_words, dynamic)
            print_row(name, mode_name, row)
        if name == "austen" and args.finetune:
            with tempfile.TemporaryDirectory() as home:
                folder, facts = finetuned([AUSTEN / f"{args.finetune}.txt"], args.finetune_epochs, Path(home))
                tuned = load_model(folder)
                tuned_model = Predictor(tuned).model
                memory = PersonalMemory.from_files([AUSTEN / f"{args.finetune}.txt"])
                for label, mode in {
                    f"fine-tune {args.finetune} (static)": Mode(False),
                    f"fine-tune + memories {args.finetune}": Mode(True, ("doc", "personal"), args.finetune),
                    f"fine-tune + all -neural {args.finetune}": Mode(True, ("doc", "personal", "ngram"), args.finetune),
                    f"fine-tune + all -neural {args.finetune} +dynamic": Mode(  # the shipped sources
                        True, ("doc", "personal", "ngram", "dynamic"), args.finetune
                    ),
                }.items():
                    if ("ngram" in mode.sources and ngram is None) or (wanted and label not in wanted):
                        continue
                    row = replay(tuned, tuned_model, text, mode, {args.finetune: memory}, ngram, max_words, dynamic)
                    row["finetune"] = facts
                    rows[f"austen {label}"] = row
                    print_row(name, label, row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
