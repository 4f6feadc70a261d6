"""The Matrix bot's settings: a TOML file (private to its owner: 0600) and/or ``ASSISTANT_MATRIX_*`` variables.

The password and access token are never shown: not in a ``repr``, not in a log line, not in an error message.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import structure_all, structure_each
from assistant.personal.finetune import FinetuneConfig
from assistant.store.paths import Paths

ENVIRONMENT = {
    "ASSISTANT_MATRIX_HOMESERVER": "homeserver",
    "ASSISTANT_MATRIX_USER": "user_id",
    "ASSISTANT_MATRIX_PASSWORD": "password",
    "ASSISTANT_MATRIX_TOKEN": "access_token",
    "ASSISTANT_MATRIX_DEVICE_ID": "device_id",
}
"""Environment variables and the settings they fill (a variable wins over the file)."""

SECRETS = ("password", "access_token")


class MatrixConfigError(ValueError):
    """The settings cannot be used; the message says why and how to fix it (and never holds a secret)."""


@dataclass(frozen=True)
class MatrixOptions:
    """The settings file's keys, any subset (the ``[finetune]`` table holds ``FinetuneConfig`` overrides)."""

    homeserver: str = ""
    """The homeserver's URL, e.g. ``https://matrix.example.org``."""
    user_id: str = ""
    """The bot's Matrix id, e.g. ``@assistant:example.org``."""
    password: str = dataclasses.field(default="", repr=False)
    """Password to log in with (or give ``access_token``)."""
    access_token: str = dataclasses.field(default="", repr=False)
    """Access token of an existing login (with ``device_id``)."""
    device_id: str = ""
    """Device of the access token's login ('' with a password: the homeserver makes one)."""
    device_name: str = "assistant bot"
    data_dir: str = ""
    """Root of every user's folder ('' = ``<user data dir>/matrix``, which honours ``ASSISTANT_HOME``)."""
    max_message_chars: int = 4000
    suggestions: int = 5
    continue_words: int = 12
    max_continue_words: int = 100
    max_finetunes: int = 1
    """Fine-tunes that run at once; more wait their turn."""
    cache_size: int = 32
    """Users whose predictors are kept in memory (the least recently used is evicted)."""
    max_retry_wait_s: float = 30.0
    """Longest wait between two tries to reach the homeserver (the wait doubles from 0.5 s up to this)."""
    workers: int = 0
    """Threads that answer commands side by side (0: one per CPU core, at least 2)."""
    finetune: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class MatrixSettings:
    """The settings, checked."""

    homeserver: str
    user_id: str
    password: str = dataclasses.field(repr=False)
    access_token: str = dataclasses.field(repr=False)
    device_id: str
    device_name: str
    data_dir: Path
    max_chars: int
    suggestions: int
    continue_words: int
    max_continue_words: int
    max_finetunes: int
    cache_size: int
    max_retry_wait_s: float
    finetune: FinetuneConfig
    workers: int = 2


def _positive(name: str, value: Any) -> Any:
    if name == "workers" and value == 0:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
        return None
    return value


def read_file(path: Path) -> dict[str, Any]:
    """The settings file's table. MatrixConfigError if it cannot be read, is not TOML, or holds a secret while
    others may read it."""
    try:
        mode = path.stat().st_mode
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MatrixConfigError(f"no settings file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MatrixConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MatrixConfigError(f"{path} is not valid TOML: {exc}") from None
    if any(raw.get(k) for k in SECRETS) and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MatrixConfigError(
            f"{path} holds a password or access token but others may read it (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    return raw


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> MatrixSettings:
    """The settings from ``path`` (if given) with the ``ASSISTANT_MATRIX_*`` variables over it."""
    raw = read_file(path) if path is not None else {}
    env = os.environ if environ is None else environ
    raw.update({key: env[var] for var, key in ENVIRONMENT.items() if env.get(var)})
    options, problems = structure_each(MatrixOptions(), raw, refine=_positive)
    if problems:
        p = problems[0]
        if p.kind == "unknown":
            known = ", ".join(f.name for f in dataclasses.fields(MatrixOptions))
            raise MatrixConfigError(f"unknown setting {p.key!r}; known: {known}")
        shown = "(hidden)" if p.key in SECRETS else repr(p.value)
        raise MatrixConfigError(f"setting {p.key!r} cannot be {shown}")
    if not options.homeserver.startswith(("http://", "https://")):
        raise MatrixConfigError("homeserver must be the homeserver's URL (http:// or https://)")
    if not (options.user_id.startswith("@") and ":" in options.user_id):
        raise MatrixConfigError("user_id must be the bot's full Matrix id, e.g. @assistant:example.org")
    if not options.password and not options.access_token:
        raise MatrixConfigError(
            "give the bot's password or access_token (in the settings file, or ASSISTANT_MATRIX_PASSWORD / "
            "ASSISTANT_MATRIX_TOKEN)"
        )
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    unknown = sorted(set(options.finetune) - known)
    if unknown:
        raise MatrixConfigError(f"[finetune]: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        finetune = structure_all({"threads": 1, **options.finetune}, FinetuneConfig)
    except ValueError as exc:
        raise MatrixConfigError(f"finetune: {exc}") from None
    data_dir = Path(options.data_dir).expanduser() if options.data_dir else Paths.default().data / "matrix"
    return MatrixSettings(
        homeserver=options.homeserver.rstrip("/"),
        user_id=options.user_id,
        password=options.password,
        access_token=options.access_token,
        device_id=options.device_id,
        device_name=options.device_name,
        data_dir=data_dir,
        max_chars=options.max_message_chars,
        suggestions=options.suggestions,
        continue_words=options.continue_words,
        max_continue_words=options.max_continue_words,
        max_finetunes=options.max_finetunes,
        cache_size=options.cache_size,
        max_retry_wait_s=float(options.max_retry_wait_s),
        finetune=finetune,
        workers=options.workers or max(2, os.cpu_count() or 1),
    )
