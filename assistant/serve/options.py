"""The server's ``initializationOptions``: structured once at ``initialize``; a bad value is reported and its
default used."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

MAX_CANDIDATES = 50
PERSONAL = "personal"
BASE = "base"


@dataclass(frozen=True)
class Options:
    """What the client chose (keys in camelCase on the wire: ``model``, ``candidates``, ``learnOnSave``)."""

    model: str = PERSONAL
    """``personal`` (the active personal model, else the base model), ``base`` (the shipped one) or a folder."""
    candidates: int = 5
    """Completion items per request."""
    learn_on_save: bool = False
    """Copy a document into the personal store when it is saved (opt-in), for the next fine-tuning."""


def _model(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _candidates(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CANDIDATES
    return value if ok else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_FIELDS = {
    # wire key: (dataclass field, check returning the value or None, what is expected)
    "model": ("model", _model, "'personal', 'base' or a model folder"),
    "candidates": ("candidates", _candidates, f"a whole number from 1 to {MAX_CANDIDATES}"),
    "learnOnSave": ("learn_on_save", _flag, "true or false"),
}


def parse_options(raw: Any, defaults: Options | None = None) -> tuple[Options, list[str]]:
    """Options from the client's ``initializationOptions``, and a warning for each value not used."""
    options = defaults or Options()
    if raw is None:
        return options, []
    if not isinstance(raw, dict):
        return options, [f"initializationOptions should be an object, not {_show(raw)}; using the defaults"]
    warnings = []
    for key, value in raw.items():
        if key not in _FIELDS:
            warnings.append(f"unknown option {key!r} ignored (known: {', '.join(_FIELDS)})")
            continue
        name, check, expected = _FIELDS[key]
        checked = check(value)
        if checked is None:
            default = _show(getattr(options, name))
            warnings.append(f"option {key} should be {expected}, not {_show(value)}; using {default}")
        else:
            options = replace(options, **{name: checked})
    return options, warnings


def _show(value: Any) -> str:
    """A value as JSON, shortened, for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
