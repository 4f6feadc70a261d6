"""Word rules shared by prediction and evaluation (DESIGN.md: words are ``\\w+(?:['’]\\w+)*``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

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


@dataclass(frozen=True)
class PieceTable:
    """Per-piece word facts, indexed by piece id: what word-level search and evaluation need to know."""

    text: tuple[str, ...]
    """Surface text of each piece ('' for control pieces and bytes of multi-byte characters; an ASCII byte
    piece stands for its character)."""
    usable: torch.Tensor
    """False for pieces that never spell text: control pieces, and byte pieces whose character has a piece."""
    continues: torch.Tensor
    """The piece is all word characters (or apostrophes): after it the word goes on."""
    breaks: torch.Tensor
    """The piece starts with a non-word character: the word before it is complete."""
    heads: tuple[str, ...]
    """Word characters a piece adds before it breaks the word (``"s"`` for ``"s,"``); '' for break pieces."""
    is_byte: torch.Tensor
    """Byte-fallback pieces."""

    @classmethod
    def build(cls, tokenizer: object) -> PieceTable:
        """Build the table from a :class:`~assistant.text.tokenizer.Tokenizer`."""
        n = len(tokenizer)  # type: ignore[arg-type]
        texts: list[str] = []
        is_byte = torch.zeros(n, dtype=torch.bool)
        for i in range(n):
            raw = tokenizer.piece_bytes(i)  # type: ignore[attr-defined]
            if tokenizer.is_byte(i):  # type: ignore[attr-defined]
                is_byte[i] = True
                raw = raw if raw[0] < 0x80 else b""
            texts.append(raw.decode("utf-8", errors="replace"))
        regular = {t for i, t in enumerate(texts) if t and not is_byte[i]}
        usable = torch.tensor([bool(t) and not (is_byte[i] and t in regular) for i, t in enumerate(texts)])
        continues = torch.tensor([continues_word(t) for t in texts])
        breaks = torch.tensor(
            [bool(t) and not is_word_char(t[0]) and not continues_word(t) and not word_head(t) for t in texts]
        )
        return cls(tuple(texts), usable, continues, breaks, tuple(word_head(t) for t in texts), is_byte)


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
