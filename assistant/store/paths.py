"""Where the assistant keeps the user's files (platformdirs, app name ``assistant``).

``ASSISTANT_HOME`` moves everything under one root (tests and portable installs use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from assistant.atomic import private_dir

APP = "assistant"
HOME_ENV = "ASSISTANT_HOME"


@dataclass(frozen=True)
class Paths:
    """Every location the assistant writes to."""

    data: Path
    """Documents and personal models."""
    config: Path
    """Settings (TOML)."""
    cache: Path
    """Rebuildable caches (e.g. the n-gram baseline)."""
    logs: Path
    """Log files."""

    @classmethod
    def default(cls) -> Paths:
        """``$ASSISTANT_HOME/{data,config,cache,logs}`` or the platform's user directories."""
        home = os.environ.get(HOME_ENV)
        if home:
            return cls.at(Path(home).expanduser())
        return cls(
            Path(platformdirs.user_data_dir(APP)),
            Path(platformdirs.user_config_dir(APP)),
            Path(platformdirs.user_cache_dir(APP)),
            Path(platformdirs.user_log_dir(APP)),
        )

    @classmethod
    def at(cls, root: Path) -> Paths:
        """``root/{data,config,cache,logs}`` (what ``ASSISTANT_HOME=root`` gives)."""
        return cls(root / "data", root / "config", root / "cache", root / "logs")

    @property
    def documents(self) -> Path:
        """The user's documents and their manifest."""
        return self.data / "documents"

    @property
    def models(self) -> Path:
        """Personal model versions."""
        return self.data / "models"

    def ensure(self, path: Path) -> Path:
        """Create ``path`` and its missing parents (private to the user: 0700) and return it."""
        private_dir(path)
        os.chmod(path, 0o700)
        return path
