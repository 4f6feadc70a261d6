"""What the app remembers between runs: the last document, each document's cursor, words since the last learn."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.atomic import atomic_write_text

STATE_FILE = "app_state.json"


@dataclass
class AppState:
    """Saved in the user data folder (atomically); a missing or damaged file gives a fresh state."""

    last_document: str = ""
    cursors: dict[str, tuple[int, int]] = field(default_factory=dict)
    words_since_learn: int = 0

    @classmethod
    def load(cls, data_dir: Path) -> AppState:
        """Read the state (defaults when there is none or it cannot be read)."""
        try:
            raw = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
            cursors = {str(k): (int(v[0]), int(v[1])) for k, v in dict(raw.get("cursors", {})).items()}
            return cls(str(raw.get("last_document", "")), cursors, int(raw.get("words_since_learn", 0)))
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            return cls()

    def save(self, data_dir: Path) -> None:
        """Write the state atomically."""
        atomic_write_text(data_dir / STATE_FILE, json.dumps(asdict(self), indent=1, ensure_ascii=False))

    def forget(self, name: str) -> None:
        """Drop what is remembered of a document (it was deleted)."""
        self.cursors.pop(name, None)
        if self.last_document == name:
            self.last_document = ""

    def renamed(self, old: str, new: str) -> None:
        """Carry what is remembered of a document over to its new name."""
        if old in self.cursors:
            self.cursors[new] = self.cursors.pop(old)
        if self.last_document == old:
            self.last_document = new
