"""The README documents every setting and the limits a new user runs into, with the values the code uses."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from assistant.store.settings import Settings
from assistant.train.finetune import PARAGRAPH_CHARS, FinetuneConfig

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
PROSE = " ".join(README.split())


def test_every_setting_is_documented_with_its_default() -> None:
    settings = Settings()
    for table in dataclasses.fields(Settings):
        if table.name == "problems":
            continue
        section = table.name.rstrip("_")
        values = getattr(settings, table.name)
        for key in dataclasses.fields(values):
            default = getattr(values, key.name)
            shown = str(default).lower() if isinstance(default, bool) else str(default)
            row = next((line for line in README.splitlines() if line.startswith(f"| `[{section}] {key.name}`")), None)
            assert row is not None, f"[{section}] {key.name} is not in the README"
            assert shown in row, (row, shown)


def test_the_limits_are_documented() -> None:
    assert "5 MB" in PROSE and f"{Settings().import_.max_bytes:,}" in PROSE
    assert f"at least {FinetuneConfig().min_words} new words" in PROSE
    assert f"{PARAGRAPH_CHARS:,} characters" in PROSE and "blank lines" in PROSE
    assert FinetuneConfig().holdout_every == 10 and "one paragraph in ten" in PROSE
