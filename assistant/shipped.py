"""Where the shipped base model lives."""

from __future__ import annotations

import os
from pathlib import Path

BASE_MODEL_ENV = "ASSISTANT_BASE_MODEL"
"""Environment variable naming another base model folder."""


def base_model_dir() -> Path:
    """The base model folder: ``$ASSISTANT_BASE_MODEL``, else ``models/base`` of this checkout or install."""
    override = os.environ.get(BASE_MODEL_ENV)
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "models" / "base", here / "models" / "base"):
        if (candidate / "config.json").is_file():
            return candidate
    return here.parent / "models" / "base"
