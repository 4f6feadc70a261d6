"""Open documents: their text, kept in step with the client's edits, and their own incremental predictor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lsprotocol import types

from assistant.engine.predictor import Predictor, Suggestions
from assistant.engine.window import given_start
from assistant.serve.positions import UTF16, LineIndex, apply_change


def deletes(change: types.TextDocumentContentChangeEvent) -> bool:
    """Whether a change only removes text (a backspace, a deleted word or line)."""
    if not isinstance(change, types.TextDocumentContentChangePartial) or change.text:
        return False
    return (change.range.start.line, change.range.start.character) != (
        change.range.end.line,
        change.range.end.character,
    )


@dataclass
class OpenDocument:
    """One document the client has open."""

    uri: str
    text: str
    predictor: Predictor
    """Its hidden-state cache follows this document only, so a keystroke costs what it costs in the engine."""
    lines: LineIndex = field(default_factory=LineIndex)
    """The line and column last edited or asked about, so positions near them are found without reading the
    document or the line."""
    edits: int = 0
    """``didChange`` notifications applied so far (a request can tell whether the text moved on while it waited)."""
    deleted: bool = False
    """Whether the last change only removed text."""

    def edit(self, changes: Sequence[types.TextDocumentContentChangeEvent], encoding: str = UTF16) -> None:
        """Apply a ``didChange`` notification's changes, in order (one that leaves the text as it was is no edit:
        Neovim 0.7 can send an empty one right after a request)."""
        before = self.text
        for change in changes:
            self.text = apply_change(self.text, change, encoding, self.lines)
        if self.text == before:
            return
        self.edits += 1
        self.deleted = deletes(changes[-1])

    def cursor(self, position: types.Position, encoding: str = UTF16) -> tuple[int, types.Position]:
        """The offset of ``position`` and the position itself, clamped to the text."""
        offset, character = self.lines.locate(self.text, position, encoding)
        return offset, types.Position(line=self.lines.line, character=character)

    def suggest(
        self, position: types.Position, n: int, phrase: bool, encoding: str = UTF16
    ) -> tuple[types.Position, Suggestions]:
        """The cursor (clamped to the text) and the engine's answer for the text before it: the part the engine
        would take (``window.given_start``), cut here so a long document is not copied whole per keystroke."""
        offset, cursor = self.cursor(position, encoding)
        return cursor, self.predictor.suggest(self.text[given_start(offset) : offset], n, phrase=phrase)
