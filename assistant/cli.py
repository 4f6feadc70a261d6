"""The ``assistant`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant import __version__

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def _load(model_dir: Path | None):
    import torch

    from assistant.lm.io import ModelLoadError, load_model
    from assistant.shipped import base_model_dir

    torch.set_num_threads(1)
    folder = model_dir or base_model_dir()
    try:
        return load_model(folder)
    except ModelLoadError as exc:
        raise CliError(str(exc)) from exc


def cmd_generate(args: argparse.Namespace) -> int:
    """Continue a text with the model."""
    from assistant.decode.generate import GenerationConfig, generate

    cfg = GenerationConfig(
        strategy=args.strategy,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        beam_width=args.beam_width,
        max_words=args.max_words,
        seed=args.seed,
    )
    try:
        cfg.validate()
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    lm = _load(args.model)
    seed_text = args.seed_text if args.seed_text != "-" else sys.stdin.read()
    result = generate(lm.model, lm.tokenizer, seed_text, cfg)
    if args.json:
        print(json.dumps({"seed": seed_text, "continuation": result.text, "logprob": result.logprob}))
    else:
        print(seed_text + result.text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="A personal writing assistant: a GRU language model suggests how your text goes on.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("generate", help="continue a text with the model", description=cmd_generate.__doc__)
    g.add_argument("seed_text", metavar="SEED", help="text to continue ('-' reads standard input)")
    g.add_argument("--strategy", choices=["greedy", "sample", "beam"], default="greedy")
    g.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (> 0)")
    g.add_argument("--top-k", type=int, default=0, help="sample among the k most likely pieces (0 = all)")
    g.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (0 < p <= 1)")
    g.add_argument("--beam-width", type=int, default=4)
    g.add_argument("--max-words", type=int, default=20)
    g.add_argument("--seed", type=int, default=None, help="random seed for sampling")
    g.add_argument("--model", type=Path, help="model folder (default: the shipped base model)")
    g.add_argument("--json", action="store_true", help="print a JSON object")
    g.set_defaults(handler=cmd_generate)

    t = sub.add_parser(
        "train-base",
        help="train a base model from text files (see 'assistant train-base --help')",
        add_help=False,
    )
    t.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-base"]:  # the trainer owns its arguments (and its --help)
        from assistant.train.base import main as train_main

        return train_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except CliError as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
