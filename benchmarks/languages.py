"""Writers of French, German and Spanish: KSR per language with the model alone, + the frequency list, + the
document memory, + 30k words of the writer's earlier text as personal documents (as memories, and with the
network fine-tuned on them too).

    python scripts/make_language_texts.py          # once: builds work/languages/{fr,de,es}
    python benchmarks/languages.py [--data work/languages] [--langs fr,de,es] [--max-words N] [--json OUT]
        [--modes model,+list,+doc,+personal,+finetune] [--finetune-epochs E]

Each replay types the development text from its start (DESIGN.md's keystroke accounting); the predictor
detects the language as it goes. ``+finetune``: the project's personal fine-tune on the personal documents
(in a temporary user directory, the app's settings unless ``--finetune-epochs``), then all five sources over
the fine-tuned network. Prints a Markdown table and, at the end, the process's peak RSS (the
frequency lists loaded).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import torch
from finetuning import finetuned

from assistant.engine.mixing import MixSettings
from assistant.engine.predictor import Predictor
from assistant.eval.metrics import keystroke_savings, latency_percentiles
from assistant.lm.io import load_model
from assistant.personal.memory import PersonalMemory
from assistant.personal.models import general_ngram
from assistant.shipped import base_model_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("work/languages"))
    parser.add_argument("--langs", default="fr,de,es")
    parser.add_argument("--modes", default="model,+list,+doc,+personal")
    parser.add_argument("--max-words", type=int, default=0, help="words of each text replayed (0: all)")
    parser.add_argument("--finetune-epochs", type=float, default=None, help="epochs of +finetune (the app's)")
    parser.add_argument("--no-ngram", action="store_true", help="leave out the general (English) n-gram")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    lm = load_model(base_model_dir())
    model = Predictor(lm).model  # one quantised copy for every predictor
    ngram = general_ngram(lm)  # the general n-gram the app mixes in (make_predictor), off with --no-ngram
    if args.no_ngram:
        ngram = None
    base = MixSettings()
    m = base.prior[0]
    rows: dict[str, dict[str, object]] = {}
    print("| language | mode | words | KSR@1 | KSR@3 | KSR@5 | acc@1 | p50 ms | p95 ms | detected |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for lang in args.langs.split(","):
        folder = args.data / lang
        if not (folder / "dev.txt").is_file():
            raise SystemExit(f"{folder / 'dev.txt'} is missing: run scripts/make_language_texts.py first")
        text = (folder / "dev.txt").read_text(encoding="utf-8")
        files = sorted((folder / "personal").glob("*.txt"))
        for mode in args.modes.split(","):
            personal = None
            if mode in ("+personal", "+finetune"):
                personal = PersonalMemory.from_files(files)
            mixing = MixSettings(**{**base.__dict__, "prior": (m, 0.0, 0.0)}) if mode == "+list" else base
            adaptive = mode != "model"
            net, quantised, facts = lm, model, None
            if mode == "+finetune":
                with tempfile.TemporaryDirectory() as home:
                    tuned_dir, facts = finetuned(files, args.finetune_epochs, Path(home))
                    net = load_model(tuned_dir)
                quantised = Predictor(net).model
            predictor = Predictor(
                net,
                model=quantised,
                adaptive=adaptive,
                mixing=mixing,
                personal=personal,
                ngram=ngram if adaptive else None,
            )
            t0 = time.perf_counter()
            r = keystroke_savings(predictor, text, max_words=args.max_words or None)
            lat = latency_percentiles(r.latencies_ms)
            row = {
                "words": r.words,
                "ksr": {str(n): round(r.ksr(n), 4) for n in (1, 3, 5)},
                "accuracy@1": round(r.first_hits[1] / max(1, r.words), 4),
                "latency_ms": lat,
                "language": getattr(predictor, "language", "-"),
                "wall_s": round(time.perf_counter() - t0, 1),
                **({"finetune": facts} if facts else {}),
            }
            rows[f"{lang} {mode}"] = row
            k = row["ksr"]
            print(
                f"| {lang} | {mode} | {r.words:,} | {k['1']:.3f} | {k['3']:.3f} | {k['5']:.3f} | "
                f"{row['accuracy@1']:.3f} | {lat['p50']:.2f} | {lat['p95']:.2f} | {row['language']} |",
                flush=True,
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    now = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20
    print(f"\nRSS now {now:.0f} MB, peak {rss:.0f} MB")
    if args.json:
        out = {"rows": rows, "rss_mb": round(now), "peak_rss_mb": round(rss)}
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
