"""User settings in ``settings.toml`` under the config folder; a bad value is reported and its default used."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.atomic import atomic_write_text, private_dir
from assistant.config import UNKNOWN, structure_each

SETTINGS_FILE = "settings.toml"
MAX_WORDS = 9
"""The most candidates a front end lists by default (the app picks them with the keys 1 to 9)."""


@dataclass
class ImportSettings:
    """``[import]``"""

    max_bytes: int = 5_000_000
    """Files larger than this are refused (also a restored archive's documents)."""
    max_archive_bytes: int = 4 << 30
    """A backup archive whose files add up to more than this is refused by ``restore``."""
    mail_from: list[str] = field(default_factory=list)
    """Your mail addresses: importing a mailbox keeps only mail sent from these (all mail when empty)."""


@dataclass
class SuggestSettings:
    """``[suggest]``"""

    enabled: bool = True
    """Suggestions (ghost text and the suggestion bar) on or off."""
    words: int = field(default=5, metadata={"max": MAX_WORDS})
    """Candidates in the suggestion bar (1 to ``MAX_WORDS``; ``assistant suggest --n`` takes the same range)."""
    phrase: bool = True
    """Ghost text may run on past the current word when the model is confident."""
    phrase_threshold: float = field(default=0.45, metadata={"max": 1.0})
    """Ghost text runs on while the continuation is at least this likely."""
    debounce_ms: int = field(default=0, metadata={"min": 0})
    """The app asks for suggestions only after this many milliseconds without a keystroke (0: at every key). The
    language server's ``debounceMs`` is the same."""
    after_delete: bool = True
    """Ghost text also right after a deletion (false: only the suggestion bar until the next typed character;
    the language server's ``afterDelete``)."""
    on_demand: bool = False
    """Suggestions only when asked for with Ctrl+Space (the language server's ``onDemand``)."""


@dataclass
class LearnSettings:
    """``[learn]``"""

    auto: bool = True
    """Fine-tune in the background once enough new text has been written."""
    after_words: int = 500
    """Words written since the last fine-tune that start one."""


@dataclass
class PrivacySettings:
    """``[privacy]``"""

    filter_secrets: bool = True
    """Keep API keys, tokens, private keys, passwords, card numbers, IBANs, one-time codes and random-looking strings
    out of learning and suggestions."""
    block_after_rejections: int = 3
    """A suggestion rejected this many times is blocked."""


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
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    """The ``[privacy]`` table."""
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
        return [
            ("import", self.import_),
            ("suggest", self.suggest),
            ("learn", self.learn),
            ("app", self.app),
            ("privacy", self.privacy),
        ]

    def save(self, config_dir: Path) -> Path:
        """Write every setting (comments name the defaults)."""
        lines = []
        for table_name, target in self.tables():
            lines.append(f"[{table_name}]")
            for f in fields(target):
                lines.append(f"{f.name} = {_toml_value(getattr(target, f.name))}")
            lines.append("")
        private_dir(config_dir)
        path = config_dir / SETTINGS_FILE
        atomic_write_text(path, "\n".join(lines))
        return path


def _apply(target: Any, table: dict[str, Any], where: str, problems: list[str]) -> None:
    """Set each value of ``table`` that structures (cattrs, strictly) to its field and is in range; report the rest."""
    limits = {f.name: f.metadata.get("max") for f in fields(target)}
    lows = {f.name: f.metadata.get("min") for f in fields(target)}

    def in_range(name: str, value: Any) -> Any:
        positive = isinstance(value, bool | str | list) or value > 0 or (lows[name] is not None and value >= lows[name])
        limit = limits[name]
        return value if positive and (limit is None or value <= limit) else None

    parsed, found = structure_each(target, table, refine=in_range)
    for p in found:
        default = getattr(target, p.key, None)
        if p.kind == UNKNOWN:
            problems.append(f"{where}: unknown setting {p.key!r}")
        elif limits[p.key] is not None and _is_number(p.value) and p.value > limits[p.key]:
            problems.append(f"{where}: {p.key} = {p.value!r} is above {limits[p.key]}; using {default}")
        else:
            kind = type(default).__name__ if isinstance(default, bool | str) else f"positive {type(default).__name__}"
            kind = f"non-negative {type(default).__name__}" if lows[p.key] == 0 else kind
            problems.append(f"{where}: {p.key} = {p.value!r} is not a {kind}; using {default}")
    for f in fields(target):
        setattr(target, f.name, getattr(parsed, f.name))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)
