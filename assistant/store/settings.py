"""User settings in ``settings.toml`` under the config folder; a bad value is reported and its default used."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.atomic import atomic_write_text

SETTINGS_FILE = "settings.toml"


@dataclass
class ImportSettings:
    """``[import]``"""

    max_bytes: int = 5_000_000
    """Files larger than this are refused."""


@dataclass
class SuggestSettings:
    """``[suggest]``"""

    enabled: bool = True
    """Suggestions (ghost text and the suggestion bar) on or off."""
    words: int = 5
    """Candidates in the suggestion bar."""
    phrase: bool = True
    """Ghost text may run on past the current word when the model is confident."""
    phrase_threshold: float = field(default=0.45, metadata={"max": 1.0})
    """Ghost text runs on while the continuation is at least this likely."""


@dataclass
class LearnSettings:
    """``[learn]``"""

    auto: bool = True
    """Fine-tune in the background once enough new text has been written."""
    after_words: int = 500
    """Words written since the last fine-tune that start one."""


@dataclass
class AppSettings:
    """``[app]``"""

    theme: str = "textual-dark"
    """Textual theme name (``textual-dark``, ``textual-light``, ...)."""
    tab_indents: bool = False
    """Tab with no ghost text to accept indents (as in a code editor) instead of completing the word being typed."""


@dataclass
class Settings:
    """All settings, with the problems found while reading them."""

    import_: ImportSettings = field(default_factory=ImportSettings)
    """The ``[import]`` table."""
    suggest: SuggestSettings = field(default_factory=SuggestSettings)
    """The ``[suggest]`` table."""
    learn: LearnSettings = field(default_factory=LearnSettings)
    """The ``[learn]`` table."""
    app: AppSettings = field(default_factory=AppSettings)
    """The ``[app]`` table."""
    problems: list[str] = field(default_factory=list)
    """What was wrong in the file (each bad value fell back to its default)."""

    @classmethod
    def load(cls, config_dir: Path) -> Settings:
        """Read ``settings.toml`` (missing file: defaults)."""
        path = config_dir / SETTINGS_FILE
        settings = cls()
        if not path.is_file():
            return settings
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            settings.problems.append(f"{path}: {exc}; using defaults")
            return settings
        for table_name, target in settings.tables():
            table = raw.get(table_name, {})
            if not isinstance(table, dict):
                settings.problems.append(f"{path}: [{table_name}] must be a table")
                continue
            _apply(target, table, f"{path} [{table_name}]", settings.problems)
        return settings

    def tables(self) -> list[tuple[str, Any]]:
        """``(table name, dataclass)`` for every table, in file order."""
        return [("import", self.import_), ("suggest", self.suggest), ("learn", self.learn), ("app", self.app)]

    def save(self, config_dir: Path) -> Path:
        """Write every setting (comments name the defaults)."""
        lines = []
        for table_name, target in self.tables():
            lines.append(f"[{table_name}]")
            for f in fields(target):
                lines.append(f"{f.name} = {_toml_value(getattr(target, f.name))}")
            lines.append("")
        config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = config_dir / SETTINGS_FILE
        atomic_write_text(path, "\n".join(lines))
        return path


def _apply(target: Any, table: dict[str, Any], where: str, problems: list[str]) -> None:
    known = {f.name: f for f in fields(target)}
    for key, value in table.items():
        f = known.get(key)
        if f is None:
            problems.append(f"{where}: unknown setting {key!r}")
            continue
        default = getattr(target, key)
        ok = isinstance(value, type(default)) or (isinstance(default, float) and isinstance(value, int))
        if (
            not ok
            or isinstance(value, bool) != isinstance(default, bool)
            or (isinstance(value, int | float) and not isinstance(value, bool) and value <= 0)
        ):
            kind = type(default).__name__ if isinstance(default, bool | str) else f"positive {type(default).__name__}"
            problems.append(f"{where}: {key} = {value!r} is not a {kind}; using {default}")
            continue
        limit = f.metadata.get("max")
        if limit is not None and value > limit:
            problems.append(f"{where}: {key} = {value!r} is above {limit}; using {default}")
            continue
        setattr(target, key, type(default)(value))


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)
