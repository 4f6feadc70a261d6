"""The plugin's settings; the ``!continue`` options are the chat front ends' shared ones. No errbot here."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.chat.options import CONTINUE_USAGE, MAX_BEAM, UsageError, parse_continue
from assistant.config import structure_all, structure_each
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
    MAX_FINETUNES: int = 1
    """Fine-tunes that run at once; more wait in a queue (each is a child process of several hundred MB)."""
    FINETUNE: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``FinetuneConfig`` fields to override."""


DEFAULTS: dict[str, Any] = dataclasses.asdict(PluginConfig())
"""The plugin configuration's defaults (Errbot's configuration template)."""

__all__ = ["CONTINUE_USAGE", "DEFAULTS", "MAX_BEAM", "PluginConfig", "Settings", "UsageError", "parse_continue"]


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
    max_finetunes: int
    """Fine-tunes that run at once; more wait their turn."""
    finetune: FinetuneConfig
    """Fine-tuning settings: ``FinetuneConfig`` defaults with the ``FINETUNE`` overrides."""


_MUST = {
    "DATA_DIR": "DATA_DIR must be a string ('' = the user data directory)",
    "FINETUNE": "FINETUNE must be a dict of FinetuneConfig fields",
    **{
        key: key + " must be a whole number >= 1, not {value!r}"
        for key in ("MAX_MESSAGE_CHARS", "SUGGESTIONS", "CONTINUE_WORDS", "MAX_CONTINUE_WORDS", "MAX_FINETUNES")
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
        max_finetunes=raw.MAX_FINETUNES,
        finetune=finetune,
    )
