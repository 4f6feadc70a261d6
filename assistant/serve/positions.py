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


CHUNK = 4096
"""Characters measured at once when walking along a line (C speed), before counting one by one inside the
chunk that holds the target."""

_BREAK = re.compile(r"[\r\n]")


def _width(ch: str, encoding: str) -> int:
    """Code units of one character."""
    if encoding == UTF32 or ch < "\x80":
        return 1
    if encoding == UTF8:
        return len(ch.encode("utf-8", "surrogatepass"))
    return 2 if ch > "\uffff" else 1


class LineIndex:
    """One remembered line start and one remembered column on that line (an offset and its code units), moved
    along from position to position, so finding the cursor costs the distance from the last one, not the
    document's size or the line's length (a keystroke in a 5 MB document, or on a 5 MB line, stays cheap)."""

    def __init__(self) -> None:
        self.line = 0
        self.start = 0
        self.col_offset = 0
        """An offset on the remembered line (``start`` at first) ..."""
        self.col_units = 0
        """... and its ``character`` in code units of the encoding last asked for."""
        self.encoding = UTF16

    def forget_after(self, offset: int) -> None:
        """An edit at ``offset``: a remembered line start or column after it may have moved."""
        if offset < self.start:
            self.line, self.start = 0, 0
        if offset < self.col_offset:
            self.col_offset, self.col_units = self.start, 0

    def remember(self, offset: int, character: int) -> None:
        """``offset`` on the remembered line is at ``character`` (after an edit that ended there)."""
        self.col_offset, self.col_units = offset, character

    def start_of(self, text: str, line: int) -> int:
        """Offset where 0-based ``line`` starts (``len(text)`` for a line beyond the last, and then the index
        stays on the last line)."""
        if line <= 0:
            at, start = 0, 0
        else:
            at, start = self.line, min(self.start, len(text))
        while at > line:  # back one line: from the break before ``start`` to the break before that
            end = start - 1
            if end > 0 and text[end] == "\n" and text[end - 1] == "\r":
                end -= 1
            newline = text.rfind("\n", 0, end)
            start = max(newline, text.rfind("\r", newline + 1, end)) + 1
            at -= 1
        beyond = False
        while at < line:
            m = _NEWLINE.search(text, start)
            if m is None:
                beyond = True
                break
            start = m.end()
            at += 1
        if (at, start) != (self.line, self.start):
            self.line, self.start = at, start
            self.col_offset, self.col_units = start, 0
        return len(text) if beyond else start

    def locate(self, text: str, position: types.Position, encoding: str = UTF16) -> tuple[int, int]:
        """The offset of ``position`` and its ``character`` as clamped to its line (the code units from the line
        start to that offset); walks from the line start or the remembered column, whichever is nearer. A line
        beyond the last means the document's end (and its ``character`` on the last line)."""
        if encoding != self.encoding or self.col_offset > len(text) or self.col_offset < self.start:
            self.encoding, self.col_offset, self.col_units = encoding, min(self.start, len(text)), 0
        start = self.start_of(text, position.line)
        target = max(position.character, 0) if self.line == position.line else len(text) * 4
        if target >= self.col_units:
            found = _forward(text, self.col_offset, self.col_units, target, encoding)
        elif target <= self.col_units - target:
            found = _forward(text, start, 0, target, encoding)
        else:
            found = _backward(text, start, self.col_offset, self.col_units, target, encoding)
        self.col_offset, self.col_units = found
        return found


def _forward(text: str, offset: int, at: int, target: int, encoding: str) -> tuple[int, int]:
    """From ``offset`` (``at`` units into its line) to the offset ``target`` units into the line, or its end."""
    while at < target:
        chunk = text[offset : offset + CHUNK]
        if not chunk:
            break
        m = _BREAK.search(chunk)
        if m is not None:
            chunk = chunk[: m.start()]
        size = units(chunk, encoding)
        if at + size <= target:
            offset, at = offset + len(chunk), at + size
            if m is not None:
                break
            continue
        for ch in chunk:
            width = _width(ch, encoding)
            if at + width > target:
                return offset, at
            offset, at = offset + 1, at + width
        break
    return offset, at


def _backward(text: str, start: int, offset: int, at: int, target: int, encoding: str) -> tuple[int, int]:
    """From ``offset`` (``at`` units into the line starting at ``start``) back to ``target`` units."""
    while at > target:
        chunk = text[max(start, offset - CHUNK) : offset]
        size = units(chunk, encoding)
        if at - size >= target:
            offset, at = offset - len(chunk), at - size
            continue
        for ch in reversed(chunk):
            width = _width(ch, encoding)
            offset, at = offset - 1, at - width
            if at <= target:
                return offset, at
    return offset, at


def to_offset(text: str, position: types.Position, encoding: str = UTF16, index: LineIndex | None = None) -> int:
    """The offset of an LSP position (``index`` remembers where the last one was)."""
    return (index or LineIndex()).locate(text, position, encoding)[0]


def to_position(text: str, offset: int, encoding: str = UTF16) -> types.Position:
    """The LSP position of an offset (reads the text before it: for a position near a known one, use
    :meth:`LineIndex.locate`'s column instead)."""
    before = text[: max(0, min(offset, len(text)))]
    line = before.count("\n") + before.count("\r") - before.count("\r\n")
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return types.Position(line=line, character=units(before[start:], encoding))


def apply_change(
    text: str, change: types.TextDocumentContentChangeEvent, encoding: str = UTF16, index: LineIndex | None = None
) -> str:
    """``text`` after one ``didChange`` content change (a ranged edit, or the whole new text)."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        index = index or LineIndex()
        start, character = index.locate(text, change.range.start, encoding)
        line, line_begin = index.line, index.start  # before ``start``: the edit leaves it where it is
        end = index.locate(text, change.range.end, encoding)[0]
        index.line, index.start = line, line_begin
        if _BREAK.search(change.text) is None:
            index.remember(start + len(change.text), character + units(change.text, encoding))
        else:
            index.remember(start, character)
        end = max(start, end)
        if end == len(text):  # typing at the end: one copy of the text, not two
            return (text if start == end else text[:start]) + change.text
        return "".join((text[:start], change.text, text[end:]))
    if index is not None:
        index.forget_after(0)
    return change.text
