"""What a paragraph is, for everything that learns by paragraph (the personal memory, the fine-tune, the privacy
filter): text between blank lines (lines holding only whitespace), without the blank lines around it and without
trailing whitespace, with Windows line ends read as ``\\n``; a paragraph holds at least one non-space character."""

from __future__ import annotations

import hashlib
import re

_BLANK_LINES = re.compile(r"\n(?:[ \t\r\f\v]*\n)+")
_LEADING_BLANK = re.compile(r"(?:[ \t\r\f\v]*\n)*")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` in ``text`` of each paragraph, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*_BLANK_LINES.finditer(text), None]:
        end = cut.start() if cut is not None else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = _LEADING_BLANK.match(piece)
            s = start + (lead.end() if lead else 0)
            spans.append((s, start + len(piece.rstrip())))
        if cut is not None:
            start = cut.end()
    return spans


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text``, in order (line ends normalised to ``\\n``)."""
    return [text[s:e].replace("\r\n", "\n") for s, e in paragraph_spans(text)]


def paragraph_hash(paragraph: str) -> str:
    """A short content hash of one paragraph (20 hex digits of SHA-256)."""
    return hashlib.sha256(paragraph.encode("utf-8")).hexdigest()[:20]


def paragraph_tail(text: str, window: int = 400) -> str:
    """The part of the last paragraph of ``text`` within its last ``window`` characters (after the last blank
    line there, if any): what a memory that counts by paragraph reads as the context."""
    tail = text[-window:]
    cut = 0
    for m in _BLANK_LINES.finditer(tail):
        cut = m.end()
    return tail[cut:]
