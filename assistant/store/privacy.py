"""What a fine-tune (or the personal memory) may learn from the user's documents.

Documents marked "do not learn" are left out, paragraphs written in private mode (until it ends, or for good)
and paragraphs holding a forgotten word are left out, and secrets are removed from what remains (``[privacy]
filter_secrets``, on by default). The documents themselves never change.

The user's space (:class:`assistant.personal.space.UserSpace`) builds the one filter of a user and hands it to
whatever learns (the personal memory, a fine-tune); nothing here reads the environment or the settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from assistant.store.blocklist import Controls
from assistant.text.paragraphs import paragraph_spans, paragraphs
from assistant.text.secrets import RULES_VERSION, redact


def paragraph_key(paragraph: str) -> str:
    """The key a paragraph written in private mode is held by (a hash of its text, outer whitespace aside)."""
    return hashlib.sha256(paragraph.strip().encode("utf-8")).hexdigest()[:24]


def paragraph_keys(text: str) -> list[str]:
    """The keys of ``text``'s paragraphs as :meth:`LearnFilter.text` reads them."""
    return [paragraph_key(p) for p in paragraphs(text)]


@dataclass(frozen=True)
class LearnFilter:
    """The user's privacy controls as they apply to learning."""

    filter_secrets: bool = True
    """Remove secrets (``assistant.text.secrets.redact``) from learned text."""
    controls: Controls | None = None
    """Forgotten words and "do not learn" documents; None: none."""

    def fingerprint(self) -> str:
        """A short hash of everything that decides what is learned (changes when the controls do)."""
        controls = self.controls
        state = [
            self.filter_secrets and RULES_VERSION,
            sorted(controls.no_learn()) if controls is not None else [],
            sorted(controls.forgotten()) if controls is not None else [],
            sorted(controls.private_paragraphs()) if controls is not None else [],
        ]
        return hashlib.sha256(json.dumps(state).encode("utf-8")).hexdigest()[:16]

    def learns_document(self, name: str) -> bool:
        """Whether document ``name`` may be learned at all."""
        return self.controls is None or not self.controls.is_no_learn(name)

    def text(self, text: str) -> str:
        """What may be learned of ``text``: paragraphs written in private mode and forgotten ones dropped,
        secrets removed."""
        private = self.controls.private_paragraphs() if self.controls is not None else frozenset()
        if private:
            text = _without_paragraphs(text, lambda p: paragraph_key(p) in private)
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
