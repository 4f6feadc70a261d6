"""What a fine-tune (or the personal memory) may learn from the user's documents.

Documents marked "do not learn" are left out, paragraphs holding a forgotten word are left out, and secrets are
removed from what remains (``[privacy] filter_secrets``, on by default). The documents themselves never change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.store.blocklist import Controls
from assistant.text.paragraphs import paragraph_spans
from assistant.text.secrets import redact

if TYPE_CHECKING:
    from assistant.store.paths import Paths

PARAGRAPH_BREAK = "\n\n"


@dataclass(frozen=True)
class LearnFilter:
    """The user's privacy controls as they apply to learning."""

    filter_secrets: bool = True
    """Remove secrets (``assistant.text.secrets.redact``) from learned text."""
    controls: Controls | None = None
    """Forgotten words and "do not learn" documents; None: none."""

    @classmethod
    def load(cls, paths: Paths) -> LearnFilter:
        """The filter the user's settings and controls describe."""
        from assistant.store.settings import Settings

        settings = Settings.load(paths.config)
        return cls(settings.privacy.filter_secrets, Controls.at(paths.data))

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> LearnFilter:
        """The filter for the user whose data folder is ``data_dir``: their controls, and their
        ``filter_secrets`` setting when ``data_dir`` is the default user's (``ASSISTANT_HOME`` or the platform's
        folders); secrets are filtered for any other folder."""
        from assistant.store.paths import Paths

        paths = Paths.default()
        if paths.data.resolve() == data_dir.resolve():
            return cls.load(paths)
        return cls(True, Controls.at(data_dir))

    def fingerprint(self) -> str:
        """A short hash of everything that decides what is learned (changes when the controls do)."""
        controls = self.controls
        state = [
            self.filter_secrets,
            sorted(controls.no_learn()) if controls is not None else [],
            sorted(controls.forgotten()) if controls is not None else [],
        ]
        return hashlib.sha256(json.dumps(state).encode("utf-8")).hexdigest()[:16]

    def learns_document(self, name: str) -> bool:
        """Whether document ``name`` may be learned at all."""
        return self.controls is None or not self.controls.is_no_learn(name)

    def text(self, text: str) -> str:
        """What may be learned of ``text``: forgotten paragraphs dropped, secrets removed."""
        if self.controls is not None and self.controls.forgotten():
            text = _without_paragraphs(text, self.controls.paragraph_is_forgotten)
        return redact(text) if self.filter_secrets else text

    def documents(self, documents: dict[str, str]) -> dict[str, str]:
        """``name -> learnable text`` for every document that may be learned."""
        return {name: self.text(text) for name, text in documents.items() if self.learns_document(name)}


def _without_paragraphs(text: str, drop: Callable[[str], bool]) -> str:
    """``text`` without the paragraphs (``assistant.text.paragraphs``: the ones the memory and the fine-tune
    see) that ``drop`` chooses, each with the blank lines after it; the rest as it was."""
    spans = paragraph_spans(text)
    kept = [
        (s, e, spans[i + 1][0] if i + 1 < len(spans) else e) for i, (s, e) in enumerate(spans) if not drop(text[s:e])
    ]
    if len(kept) == len(spans):
        return text
    head = text[: spans[0][0]] if spans else text
    body = "".join(text[s:nxt] for s, _, nxt in kept[:-1]) + (text[kept[-1][0] : kept[-1][1]] if kept else "")
    return head + body + text[spans[-1][1] :]
