"""LSP positions <-> offsets into a Python string, in the position encoding agreed with the client.

Index conventions:
- A document is a Python ``str``; an *offset* is an index into it (code points), ``0 <= offset <= len(text)``.
- Lines are separated by ``"\\n"``, ``"\\r\\n"`` or ``"\\r"`` (LSP 3.17), nothing else (not ``\\f`` or U+2028).
- A position's ``line`` is 0-based; its ``character`` counts code units of the encoding from the line start:
  UTF-16 units by default (a character beyond U+FFFF, such as most emoji, counts 2), UTF-8 bytes or UTF-32 code
  points when the client offered them.
- A ``character`` beyond the end of its line means the line end; a line beyond the last means the document end; a
  ``character`` inside a character's code units means the start of that character.
"""

from __future__ import annotations

import re

from lsprotocol import types

UTF8 = types.PositionEncodingKind.Utf8.value
UTF16 = types.PositionEncodingKind.Utf16.value
UTF32 = types.PositionEncodingKind.Utf32.value

_NEWLINE = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str = UTF16) -> int:
    """Code units ``text`` takes in ``encoding`` (a lone surrogate counts as one UTF-16 unit)."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def line_start(text: str, line: int) -> int:
    """Offset where 0-based ``line`` starts (``len(text)`` for a line beyond the last)."""
    if line <= 0:
        return 0
    parts = _NEWLINE.split(text, maxsplit=line)
    if len(parts) <= line:
        return len(text)
    return len(text) - len(parts[-1])


def line_end(text: str, start: int) -> int:
    """Offset of the line break ending the line that starts at ``start`` (``len(text)`` on the last line)."""
    m = _NEWLINE.search(text, start)
    return m.start() if m else len(text)


class LineIndex:
    """One remembered line start, moved along from line to line, so finding the line being typed on costs the
    distance from the last one, not the document's size (a keystroke in a 5 MB document stays cheap)."""

    def __init__(self) -> None:
        self.line = 0
        self.start = 0

    def forget_after(self, offset: int) -> None:
        """An edit at ``offset``: a remembered line start after it may have moved."""
        if offset < self.start:
            self.line, self.start = 0, 0

    def start_of(self, text: str, line: int) -> int:
        """Offset where 0-based ``line`` starts (``len(text)`` for a line beyond the last)."""
        if line <= 0:
            return 0
        at, start = self.line, min(self.start, len(text))
        while at > line:  # back one line: from the break before ``start`` to the break before that
            end = start - 1
            if end > 0 and text[end] == "\n" and text[end - 1] == "\r":
                end -= 1
            newline = text.rfind("\n", 0, end)
            start = max(newline, text.rfind("\r", newline + 1, end)) + 1
            at -= 1
        while at < line:
            m = _NEWLINE.search(text, start)
            if m is None:
                return len(text)
            start = m.end()
            at += 1
        self.line, self.start = at, start
        return start


def to_offset(text: str, position: types.Position, encoding: str = UTF16, index: LineIndex | None = None) -> int:
    """The offset of an LSP position (``index`` remembers where the last one's line started)."""
    start = line_start(text, position.line) if index is None else index.start_of(text, position.line)
    end = line_end(text, start)
    line = text[start:end]
    if encoding == UTF32 or line.isascii():
        return start + min(max(position.character, 0), len(line))
    counted = 0
    for i, ch in enumerate(line):
        counted += units(ch, encoding)
        if counted > position.character:
            return start + i
    return end


def to_position(text: str, offset: int, encoding: str = UTF16) -> types.Position:
    """The LSP position of an offset."""
    before = text[: max(0, min(offset, len(text)))]
    line = before.count("\n") + before.count("\r") - before.count("\r\n")
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return types.Position(line=line, character=units(before[start:], encoding))


def apply_change(
    text: str, change: types.TextDocumentContentChangeEvent, encoding: str = UTF16, index: LineIndex | None = None
) -> str:
    """``text`` after one ``didChange`` content change (a ranged edit, or the whole new text)."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        start = to_offset(text, change.range.start, encoding, index)
        end = to_offset(text, change.range.end, encoding, index)
        if index is not None:
            index.forget_after(start)
        return text[:start] + change.text + text[max(start, end) :]
    if index is not None:
        index.forget_after(0)
    return change.text
