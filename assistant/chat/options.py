"""Chat commands' arguments, the same on every chat network: ``!continue``'s options and ``!suggest``'s text."""

from __future__ import annotations

import math
import re

from assistant.personal import GenerationConfig

NEXT_WORD_MARK = "_"
"""A last word of exactly this asks for the next word (chat clients trim the trailing space that would)."""

SUGGEST_USAGE = "usage: !suggest <text> (end it with ' _' for the next word)"

CONTINUE_USAGE = (
    "usage: !continue [--words N] [--temperature T] [--top-k K] [--top-p P] [--beam W] [--seed S] <text>\n"
    "greedy by default; --temperature, --top-k or --top-p sample; --beam W runs beam search of width W"
)


class UsageError(ValueError):
    """Bad command arguments; the message includes the usage."""

    def __init__(self, problem: str, usage: str = CONTINUE_USAGE) -> None:
        super().__init__(f"{problem}\n{usage}" if usage else problem)


_OPTIONS: dict[str, type] = {
    "--words": int,
    "--temperature": float,
    "--top-k": int,
    "--top-p": float,
    "--beam": int,
    "--seed": int,
}
_SAMPLING = ("--temperature", "--top-k", "--top-p", "--seed")
MAX_BEAM = 16
"""Widest beam a chat user may ask for (each hypothesis costs a model step per piece)."""


def parse_continue(args: str, default_words: int, max_words: int) -> tuple[str, GenerationConfig]:
    """Split ``!continue`` arguments into the text and a generation config (options may stand anywhere)."""
    given: dict[str, float | int] = {}
    cuts: list[tuple[int, int]] = []
    tokens = list(re.finditer(r"\S+", args))
    i = 0
    while i < len(tokens):
        token, start = tokens[i].group(), tokens[i].start()
        name, eq, inline = token.partition("=")
        if token.startswith("--") and len(token) > 2:
            if name not in _OPTIONS:
                raise UsageError(f"unknown option {name}")
            if name in given:
                raise UsageError(f"{name} given twice")
            if eq:
                raw, end = inline, tokens[i].end()
            elif i + 1 < len(tokens):
                raw, end = tokens[i + 1].group(), tokens[i + 1].end()
                i += 1
            else:
                raise UsageError(f"{name} needs a value")
            try:
                given[name] = _OPTIONS[name](raw)
            except ValueError:
                kind = "a whole number" if _OPTIONS[name] is int else "a number"
                raise UsageError(f"{name} needs {kind}, not {raw!r}") from None
            if not math.isfinite(given[name]):
                raise UsageError(f"{name} needs a finite number, not {raw!r}")
            cuts.append((start, end))
        i += 1
    text = _cut(args, cuts).strip()
    if not text:
        raise UsageError("give me some text to continue")
    if "--beam" in given and any(k in given for k in _SAMPLING):
        raise UsageError("--beam cannot be combined with sampling options")
    words = int(given.get("--words", default_words))
    if not 1 <= words <= max_words:
        raise UsageError(f"--words must be between 1 and {max_words}")
    if not 1 <= int(given.get("--beam", 1)) <= MAX_BEAM:
        raise UsageError(f"--beam must be between 1 and {MAX_BEAM}")
    strategy = "beam" if "--beam" in given else "sample" if any(k in given for k in _SAMPLING) else "greedy"
    config = GenerationConfig(
        strategy=strategy,
        temperature=float(given.get("--temperature", 1.0)),
        top_k=int(given.get("--top-k", 0)),
        top_p=float(given.get("--top-p", 1.0)),
        beam_width=int(given.get("--beam", 4)),
        max_words=words,
        seed=int(given["--seed"]) if "--seed" in given else None,
    )
    try:
        config.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return text, config


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the option spans; where a cut joins two pieces of text, one space."""
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.rstrip() + " " + part.lstrip() if joined.strip() and part.strip() else joined + part
    return joined


def suggest_text(args: str) -> str:
    """The text ``!suggest`` completes: a last word of ``_`` becomes the trailing space it stands for.
    UsageError when nothing is left."""
    text = args
    if text == NEXT_WORD_MARK or text.endswith(" " + NEXT_WORD_MARK):
        text = text[: -len(NEXT_WORD_MARK)]
    if not text.strip():
        raise UsageError(SUGGEST_USAGE, usage="")
    return text


def percent(p: float) -> str:
    """A probability as chat replies show it."""
    return "<0.1%" if p < 0.001 else f"{p:.1%}"
