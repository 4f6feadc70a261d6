"""Word rules shared by prediction and evaluation (docs/design.md: words are ``\\w+(?:['’]\\w+)*``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

WORD_RE = re.compile(r"\w+(?:['’]\w+)*")
"""A word: a maximal run of letters, digits and inner apostrophes."""

_WORD_CHAR_RE = re.compile(r"\w")

CLOSING_PUNCTUATION = ".,;:!?)]}…"
"""Punctuation written right after a word and followed by a space: an accepted word's added space gives way to it,
and after it the next word is predicted as if the space had been typed."""


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


APOSTROPHES = "'’"


def continues_word(text: str) -> bool:
    """Whether a piece's text can extend a word: only word characters and apostrophes."""
    return bool(text) and all(is_word_char(c) or c in APOSTROPHES for c in text)


def word_head(text: str) -> str:
    """The leading run of word characters (with inner apostrophes) of ``text``: the part that extends a word."""
    i = 0
    while i < len(text) and (is_word_char(text[i]) or (text[i] in APOSTROPHES and i + 1 < len(text))):
        i += 1
    return text[:i].rstrip(APOSTROPHES)


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
