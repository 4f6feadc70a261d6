"""What a word memory answers at a cursor, and how a remembered word is shown there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MemoryAnswer:
    """A memory's answer for one cursor position."""

    words: dict[str, float]
    """Candidate words, each with ``P(word | prefix)`` under the memory."""
    mass: float
    """``P(next word starts with prefix)`` under the memory (0 when it knows no such word)."""


NO_ANSWER = MemoryAnswer({}, 0.0)


def capitalise(word: str) -> str:
    """``word`` with its first character upper case (what it looks like at a sentence start)."""
    return word[:1].upper() + word[1:]


def shape(word: str, sentence_start: bool) -> str:
    """How a remembered word is offered: capitalised at a sentence start, else as written."""
    return capitalise(word) if sentence_start else word
