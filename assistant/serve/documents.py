"""Open documents: their text, kept in step with the client's edits, and their own incremental predictor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

from assistant.engine.predictor import Predictor, Suggestions
from assistant.serve.positions import UTF16, apply_change, to_offset


@dataclass
class OpenDocument:
    """One document the client has open."""

    uri: str
    text: str
    predictor: Predictor
    """Its hidden-state cache follows this document only, so a keystroke costs what it costs in the engine."""

    def edit(self, changes: Sequence[types.TextDocumentContentChangeEvent], encoding: str = UTF16) -> None:
        """Apply a ``didChange`` notification's changes, in order."""
        for change in changes:
            self.text = apply_change(self.text, change, encoding)

    def suggest(self, position: types.Position, n: int, phrase: bool, encoding: str = UTF16) -> tuple[int, Suggestions]:
        """The cursor's offset and the engine's answer for the text before it."""
        offset = to_offset(self.text, position, encoding)
        return offset, self.predictor.suggest(self.text[:offset], n, phrase=phrase)
