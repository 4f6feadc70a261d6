"""Open documents: their text, kept in step with the client's edits, and their own incremental predictor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lsprotocol import types

from assistant.engine.predictor import MAX_CONTEXT_CHARS, WINDOW_STEP, Predictor, Suggestions
from assistant.serve.positions import UTF16, LineIndex, apply_change, to_offset


def window_start(offset: int) -> int:
    """Where the text the predictor reads before ``offset`` can start: a multiple of the window's step that
    leaves the predictor's own window (and so its cached states) exactly as with the whole text before it."""
    return max(0, ((offset - MAX_CONTEXT_CHARS) // WINDOW_STEP - 1) * WINDOW_STEP)


@dataclass
class OpenDocument:
    """One document the client has open."""

    uri: str
    text: str
    predictor: Predictor
    """Its hidden-state cache follows this document only, so a keystroke costs what it costs in the engine."""
    lines: LineIndex = field(default_factory=LineIndex)
    """The line last edited or asked about, so positions near it are found without reading the document."""

    def edit(self, changes: Sequence[types.TextDocumentContentChangeEvent], encoding: str = UTF16) -> None:
        """Apply a ``didChange`` notification's changes, in order."""
        for change in changes:
            self.text = apply_change(self.text, change, encoding, self.lines)

    def suggest(self, position: types.Position, n: int, phrase: bool, encoding: str = UTF16) -> tuple[int, Suggestions]:
        """The cursor's offset and the engine's answer for the text before it."""
        offset = to_offset(self.text, position, encoding, self.lines)
        return offset, self.predictor.suggest(self.text[window_start(offset) : offset], n, phrase=phrase)
