"""The plugin's settings, the ``!continue`` options and the texts of its replies. No errbot here."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import structure_all, structure_each
from assistant.personal import GenerationConfig
from assistant.personal.finetune import FinetuneConfig
from assistant.store.paths import Paths


@dataclass(frozen=True)
class PluginConfig:
    """The plugin configuration as given (``!plugin config WritingAssistant {...}``); any subset of keys."""

    DATA_DIR: str = ""
    """Root of every user's folder ('' = ``<user data dir>/errbot``)."""
    MAX_MESSAGE_CHARS: int = 4000
    SUGGESTIONS: int = 5
    CONTINUE_WORDS: int = 12
    MAX_CONTINUE_WORDS: int = 100
    FINETUNE: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``FinetuneConfig`` fields to override."""


DEFAULTS: dict[str, Any] = dataclasses.asdict(PluginConfig())
"""The plugin configuration's defaults (Errbot's configuration template)."""

CONTINUE_USAGE = (
    "usage: !continue [--words N] [--temperature T] [--top-k K] [--top-p P] [--beam W] [--seed S] <text>\n"
    "greedy by default; --temperature, --top-k or --top-p sample; --beam W runs beam search of width W"
)


@dataclass(frozen=True)
class Settings:
    """The plugin configuration, checked."""

    data_dir: Path
    """Root of every user's folder (default: ``<user data dir>/errbot``, which honours ``ASSISTANT_HOME``)."""
    max_chars: int
    """Longest message learned from or answered; longer ones are refused."""
    suggestions: int
    """Words ``!suggest`` lists."""
    continue_words: int
    """Words ``!continue`` writes when ``--words`` is not given."""
    max_continue_words: int
    """Most words ``--words`` may ask for."""
    finetune: FinetuneConfig
    """Fine-tuning settings: ``FinetuneConfig`` defaults with the ``FINETUNE`` overrides."""


_MUST = {
    "DATA_DIR": "DATA_DIR must be a string ('' = the user data directory)",
    "FINETUNE": "FINETUNE must be a dict of FinetuneConfig fields",
    **{
        key: key + " must be a whole number >= 1, not {value!r}"
        for key in ("MAX_MESSAGE_CHARS", "SUGGESTIONS", "CONTINUE_WORDS", "MAX_CONTINUE_WORDS")
    },
}


def _at_least_one(name: str, value: Any) -> Any:
    return None if isinstance(value, int) and value < 1 else value


def settings_from(config: Mapping[str, Any] | None) -> Settings:
    """Merge ``config`` over ``DEFAULTS`` and structure it (cattrs); ValueError names what is wrong."""
    merged = {**DEFAULTS, **(config or {})}
    unknown = sorted(set(merged) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    raw, problems = structure_each(PluginConfig(), merged, refine=_at_least_one)
    if problems:
        raise ValueError(_MUST[problems[0].key].format(value=problems[0].value))
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    bad = sorted(set(raw.FINETUNE) - known)
    if bad:
        raise ValueError(f"FINETUNE: unknown field(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
    try:
        finetune = structure_all({"threads": 1, **raw.FINETUNE}, FinetuneConfig)
    except ValueError as exc:
        raise ValueError(f"FINETUNE: {exc}") from None
    data_dir = Path(raw.DATA_DIR).expanduser() if raw.DATA_DIR else Paths.default().data / "errbot"
    return Settings(
        data_dir=data_dir,
        max_chars=raw.MAX_MESSAGE_CHARS,
        suggestions=raw.SUGGESTIONS,
        continue_words=raw.CONTINUE_WORDS,
        max_continue_words=raw.MAX_CONTINUE_WORDS,
        finetune=finetune,
    )


class UsageError(ValueError):
    """Bad ``!continue`` arguments; the message includes the usage."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}\n{CONTINUE_USAGE}")


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
