"""The server's ``initializationOptions``: structured once at ``initialize``; a bad value is reported and its
default used."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from assistant.config import UNKNOWN, structure_each

MAX_CANDIDATES = 50
PERSONAL = "personal"
BASE = "base"


@dataclass(frozen=True)
class Options:
    """What the client chose (keys in camelCase on the wire: ``model``, ``candidates``, ``learnOnSave``,
    ``debounceMs``, ``afterDelete``, ``minChars``, ``onDemand``)."""

    model: str = PERSONAL
    """``personal`` (the active personal model, else the base model), ``base`` (the shipped one) or a folder."""
    candidates: int = 5
    """Completion items per request."""
    learn_on_save: bool = False
    """Copy a document into the personal store when it is saved (opt-in), for the next fine-tuning."""
    debounce_ms: int = 0
    """Wait this long before answering an automatic request; one overtaken by an edit meanwhile is answered empty."""
    after_delete: bool = True
    """Ghost text right after a deletion (false: none until the next character typed, unless asked for)."""
    min_chars: int = 0
    """Characters of the word being typed before completion items are offered (0: also the next word after a
    space)."""
    on_demand: bool = False
    """Suggest only when asked (inline: trigger kind Invoked; completion: not on a trigger character)."""


MAX_DEBOUNCE_MS = 5000
MAX_MIN_CHARS = 20

WIRE_KEYS = {
    "model": "model",
    "candidates": "candidates",
    "learnOnSave": "learn_on_save",
    "debounceMs": "debounce_ms",
    "afterDelete": "after_delete",
    "minChars": "min_chars",
    "onDemand": "on_demand",
}
"""Option names on the wire -> :class:`Options` fields."""

EXPECTED = {
    "model": "'personal', 'base' or a model folder",
    "candidates": f"a whole number from 1 to {MAX_CANDIDATES}",
    "learn_on_save": "true or false",
    "debounce_ms": f"a whole number of milliseconds from 0 to {MAX_DEBOUNCE_MS}",
    "after_delete": "true or false",
    "min_chars": f"a whole number from 0 to {MAX_MIN_CHARS}",
    "on_demand": "true or false",
}


def _refine(name: str, value: Any) -> Any:
    """A structured value as used, or None when out of range."""
    if name == "model":
        return value.strip() or None
    if name == "candidates":
        return value if 1 <= value <= MAX_CANDIDATES else None
    if name == "debounce_ms":
        return value if 0 <= value <= MAX_DEBOUNCE_MS else None
    if name == "min_chars":
        return value if 0 <= value <= MAX_MIN_CHARS else None
    return value


def parse_options(raw: Any, defaults: Options | None = None) -> tuple[Options, list[str]]:
    """Options from the client's ``initializationOptions`` (structured with cattrs, value by value), and a
    warning for each value not used."""
    options = defaults or Options()
    if raw is None:
        return options, []
    if not isinstance(raw, dict):
        return options, [f"initializationOptions should be an object, not {_show(raw)}; using the defaults"]
    parsed, problems = structure_each(options, raw, WIRE_KEYS, _refine)
    warnings = []
    for p in problems:
        if p.kind == UNKNOWN:
            warnings.append(f"unknown option {p.key!r} ignored (known: {', '.join(WIRE_KEYS)})")
        else:
            name = WIRE_KEYS[p.key]
            default = _show(getattr(options, name))
            warnings.append(f"option {p.key} should be {EXPECTED[name]}, not {_show(p.value)}; using {default}")
    return parsed, warnings


def _show(value: Any) -> str:
    """A value as JSON, shortened, for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
