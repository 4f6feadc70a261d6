"""Word rules shared by prediction and evaluation (DESIGN.md: words are ``\\w+(?:['’]\\w+)*``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

WORD_RE = re.compile(r"\w+(?:['’]\w+)*")
"""A word: a maximal run of letters, digits and inner apostrophes."""

_WORD_CHAR_RE = re.compile(r"\w")


def words(text: str) -> list[str]:
    """The words of ``text`` in order."""
    return WORD_RE.findall(text)


def word_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of each word of ``text``."""
    return [m.span() for m in WORD_RE.finditer(text)]


def count_words(text: str) -> int:
    """Number of words in ``text``."""
    return sum(1 for _ in WORD_RE.finditer(text))


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` can be part of a word (apostrophes only inside one)."""
    return bool(_WORD_CHAR_RE.match(ch))


def partial_word(text_before_cursor: str) -> tuple[str, str]:
    """Split text into ``(context, prefix)`` where ``prefix`` is the word being typed at its end.

    ``prefix`` is empty when the text ends with a separator. An apostrophe right after letters counts as part
    of the word being typed (``"don'"`` is the start of ``"don't"``).
    """
    i = len(text_before_cursor)
    while i > 0:
        ch = text_before_cursor[i - 1]
        if is_word_char(ch) or (ch in "'’" and i - 1 > 0 and is_word_char(text_before_cursor[i - 2])):
            i -= 1
        else:
            break
    return text_before_cursor[:i], text_before_cursor[i:]


@dataclass(frozen=True)
class PieceTable:
    """Per-piece facts that word-level search needs, as arrays indexed by piece id."""

    text: tuple[str, ...]
    """Surface text of each piece ('' for byte and control pieces)."""
    starts_word: torch.Tensor
    """True where the piece's first character is a word character not preceded by a space in the piece."""
    breaks_word: torch.Tensor
    """True where the piece cannot continue the current word: it starts with a non-word character."""
    word_chars_only: torch.Tensor
    """True where every character of the piece is a word character (or an apostrophe)."""
    is_byte: torch.Tensor
    """True for byte-fallback pieces."""

    @classmethod
    def build(cls, tokenizer: object) -> PieceTable:
        """Build the table from a :class:`~assistant.text.tokenizer.Tokenizer`."""
        n = len(tokenizer)  # type: ignore[arg-type]
        texts: list[str] = []
        starts = torch.zeros(n, dtype=torch.bool)
        breaks = torch.zeros(n, dtype=torch.bool)
        only = torch.zeros(n, dtype=torch.bool)
        is_byte = torch.zeros(n, dtype=torch.bool)
        for i in range(n):
            if tokenizer.is_byte(i):  # type: ignore[attr-defined]
                texts.append("")
                is_byte[i] = True
                continue
            raw = tokenizer.piece_bytes(i)  # type: ignore[attr-defined]
            t = raw.decode("utf-8", errors="replace")
            texts.append(t)
            if not t:
                breaks[i] = True
                continue
            breaks[i] = not is_word_char(t[0])
            starts[i] = is_word_char(t[0])
            only[i] = all(is_word_char(c) or c in "'’" for c in t)
        return cls(tuple(texts), starts, breaks, only, is_byte)


def word_boundaries(piece_texts: Sequence[str]) -> list[int]:
    """Indices ``i`` of pieces at which a new word starts, given the surface text of a piece sequence.

    A word starts at piece ``i`` when the piece's text holds the first character of a word of the joined text.
    """
    text = "".join(piece_texts)
    starts = {s for s, _ in word_spans(text)}
    out: list[int] = []
    offset = 0
    for i, t in enumerate(piece_texts):
        if any(offset <= s < offset + len(t) for s in starts):
            out.append(i)
        offset += len(t)
    return out
