"""``assistant train-base``: tokenizer + mixed token stream + GRU training -> a model folder.

Also runs as ``python -m assistant.train`` (and ``torchrun ... -m assistant.train``) on machines without the app's
dependencies.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from assistant.lm.io import save_model
from assistant.lm.model import GRUConfig
from assistant.text.lexicon import LEXICON_FILE, Lexicon
from assistant.text.tokenizer import Tokenizer, TokenizerTrainingOptions
from assistant.train.data import MixSource, TokenData, load_or_build_token_data
from assistant.train.trainer import DistributedContext, TrainConfig, hardware_summary, train_model

DEFAULT_MIX: dict[str, float] = {
    "chitchat": 1.0,
    "chatterbot_en": 1.0,
    "wiki_vital": 1.5,
    "sotu_1933on": 1.0,
    "factbook": 1.0,
    "wordnet_examples": 1.0,
    "fortunes": 1.0,
    "cataclysm": 0.5,
    "endless_sky": 1.0,
    "wesnoth_campaigns": 1.0,
    "python_docs": 0.3,
    "django_docs": 0.3,
    "postgres_docs": 0.3,
    "libreoffice_help": 0.4,
    "gimp_help": 0.4,
    "gnome_help": 1.0,
    "debian_docs": 0.4,
    "foldoc": 0.3,
    "jargon": 0.5,
    "linux_docs": 0.2,
}
"""Copies per epoch of each file of the shipped mix: everyday prose and conversation weigh more than manuals,
since people write notes, mail and prose; technical text stays in for vocabulary."""


def build_parser(prog: str = "assistant train-base") -> argparse.ArgumentParser:
    """Arguments of base training (shared by the CLI and ``python -m assistant.train``)."""
    p = argparse.ArgumentParser(prog=prog, description="Train a base model from a folder of text files.")
    p.add_argument("--data", type=Path, help="folder of .txt training files")
    p.add_argument("--tokens", type=Path, help="prepared token streams (.safetensors) instead of --data")
    p.add_argument("--mix", action="append", default=[], metavar="NAME=WEIGHT", help="weight of one file")
    p.add_argument("--mix-file", type=Path, help="JSON weights: {NAME: WEIGHT} or {'sources': [{name, weight}]}")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--work", type=Path, default=Path("runs/base"), help="checkpoints and caches")
    p.add_argument("--tokenizer", type=Path, help="existing tokenizer.model (else one is trained)")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--tokenizer-type", choices=["unigram", "bpe"], default="unigram")
    p.add_argument("--embed-dim", type=int, default=256)
    p.add_argument("--hidden-dim", type=int, default=512)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--clip-grad", type=float, default=1.0, help="0 turns clipping off")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--max-val-tokens", type=int, default=200_000)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=0.0, help="seconds; stop cleanly and save")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--fresh", action="store_true", help="ignore checkpoints in --work and start over")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--prepare-only", action="store_true", help="write the tokenizer and token streams, then stop")
    p.add_argument("--lexicon-min-count", type=int, default=3, help="words seen this often go into lexicon.txt")
    p.add_argument("--lexicon-only", action="store_true", help="only (re)write --out/lexicon.txt from --data")
    return p


def read_mix_file(path: Path) -> dict[str, float]:
    """Weights from a JSON file: ``{NAME: WEIGHT}`` or ``{"sources": [{"name": ..., "weight": ...}]}``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = doc["sources"] if isinstance(doc, dict) and "sources" in doc else None
        if rows is not None:
            return {str(r["name"]): float(r["weight"]) for r in rows}
        return {str(k): float(v) for k, v in doc.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SystemExit(f"--mix-file {path}: {exc}") from None


def parse_mix(data_dir: Path, overrides: list[str], mix_file: Path | None = None) -> list[MixSource]:
    """Sources for every ``.txt`` in ``data_dir``, weighted by the default mix (or ``mix_file``) and overrides."""
    weights = read_mix_file(mix_file) if mix_file else dict(DEFAULT_MIX)
    for item in overrides:
        name, _, value = item.partition("=")
        try:
            weights[name] = float(value)
        except ValueError:
            raise SystemExit(f"--mix expects NAME=WEIGHT, got {item!r}") from None
    files = sorted(data_dir.glob("*.txt"))
    if not files:
        raise SystemExit(f"no .txt files in {data_dir}")
    return [MixSource(f, weights.get(f.stem, 1.0)) for f in files if weights.get(f.stem, 1.0) > 0]


def prepare(args: argparse.Namespace) -> tuple[Path, TokenData]:
    """The tokenizer path and token streams for this run (trained/built once, then cached in ``--work``)."""
    work: Path = args.work
    if args.tokens:
        data = TokenData.load(args.tokens)
        if not args.tokenizer:
            raise SystemExit("--tokens needs --tokenizer (the model the ids were made with)")
        return args.tokenizer, data
    if not args.data:
        raise SystemExit("give --data DIR (text files) or --tokens FILE")
    sources = parse_mix(args.data, args.mix, args.mix_file)
    tok_path = args.tokenizer
    if tok_path is None:
        tok_path = work / f"tokenizer-{args.tokenizer_type}{args.vocab_size}.model"
        if not tok_path.is_file():
            opts = TokenizerTrainingOptions(vocab_size=args.vocab_size, model_type=args.tokenizer_type)
            Tokenizer.train([s.path for s in sources], tok_path.with_suffix(""), opts)
    tokenizer = Tokenizer(tok_path)
    data = load_or_build_token_data(tokenizer, sources, work / "cache", seed=args.seed)
    return tok_path, data


def write_lexicon(args: argparse.Namespace) -> int:
    """Write ``lexicon.txt`` (words of the training text seen at least ``--lexicon-min-count`` times)."""
    if not args.data:
        return 0
    texts = (
        s.path.read_text(encoding="utf-8", errors="replace") for s in parse_mix(args.data, args.mix, args.mix_file)
    )
    lexicon = Lexicon.from_texts(texts, min_count=args.lexicon_min_count)
    lexicon.save(args.out / LEXICON_FILE)
    return len(lexicon)


def run(args: argparse.Namespace) -> int:
    """Prepare, train and write the model folder; returns an exit code."""
    if args.lexicon_only:
        print(f"lexicon: {write_lexicon(args):,} words", file=sys.stderr)
        return 0
    ctx = DistributedContext(args.device)
    try:
        if ctx.is_main:
            tok_path, data = prepare(args)
        ctx.barrier()
        if not ctx.is_main:
            tok_path, data = prepare(args)  # reads the caches rank 0 wrote
        if ctx.is_main:
            print(
                f"train stream {data.train.numel():,} tokens ({data.train_chars:,} chars), "
                f"validation {data.val.numel():,} tokens",
                file=sys.stderr,
            )
        if args.prepare_only:
            return 0
        tokenizer = Tokenizer(tok_path)
        model_cfg = GRUConfig(
            vocab_size=tokenizer.vocab_size,
            embed_dim=args.embed_dim,
            hidden_dim=args.hidden_dim,
            num_layers=args.layers,
            dropout=args.dropout,
        )
        train_cfg = TrainConfig(
            batch_size=args.batch_size,
            seq_len=args.seq_len,
            lr=args.lr,
            warmup_steps=args.warmup_steps,
            max_steps=args.steps,
            weight_decay=args.weight_decay,
            clip_grad=args.clip_grad,
            eval_every=args.eval_every,
            checkpoint_every=args.checkpoint_every,
            seed=args.seed,
            device=args.device,
            threads=args.threads,
            time_limit=args.time_limit,
            max_val_tokens=args.max_val_tokens,
        )
        started = time.time()
        result = train_model(
            model_cfg,
            train_cfg,
            data,
            args.work / "checkpoints",
            resume=not args.fresh,
            progress=not args.no_progress,
            context=ctx,
        )
        if ctx.is_main:
            summary = result.summary()
            summary.update(
                {
                    "train_config": {k: v for k, v in vars(train_cfg).items()},
                    "mix": data.sources,
                    "hardware": hardware_summary(ctx.device, ctx.world_size),
                    "torch": torch.__version__,
                    "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "command": " ".join(sys.argv),
                    "session_wall_seconds": round(time.time() - started, 1),
                    "train_tokens_per_epoch": int(data.train.numel()),
                }
            )
            save_model(args.out, result.model, tok_path, training=summary)
            write_lexicon(args)
            print(json.dumps({k: v for k, v in summary.items() if k != "history"}, indent=1), file=sys.stderr)
            if not result.ranks_agree:
                print("error: ranks ended with different weights", file=sys.stderr)
                return 1
        return 0
    finally:
        ctx.close()


def main(argv: list[str] | None = None, prog: str = "assistant train-base") -> int:
    """Entry point."""
    return run(build_parser(prog).parse_args(argv))
