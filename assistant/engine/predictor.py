"""The predictor facade: told the text before the cursor, it answers word candidates and continuations."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from assistant.decode.generate import Generation, GenerationConfig, generate
from assistant.decode.wordsearch import SearchLimits, WordCandidate, WordSearch
from assistant.engine.context import ContextCache
from assistant.lm.io import LoadedModel
from assistant.text.words import is_word_char, partial_word

MAX_TAIL_CHARS = 12
"""Separator characters after the last word kept in the typed tail; older ones join the context."""


@dataclass(frozen=True)
class Split:
    """The text before the cursor cut into the context the model reads and the tail the search matches."""

    context: str
    tail: str
    prefix: str
    """The partial word at the end of the tail ('' after a separator)."""


def split_text(text_before_cursor: str) -> Split:
    """Context up to the last complete word; tail = what follows it (separators and the partial word)."""
    before, prefix = partial_word(text_before_cursor)
    j = len(before)
    while j > 0 and not is_word_char(before[j - 1]):
        j -= 1
    j = max(j, len(before) - MAX_TAIL_CHARS)
    return Split(text_before_cursor[:j], text_before_cursor[j:], prefix)


class Predictor:
    """Word candidates and phrase continuations for the text before a cursor, with an incremental state."""

    def __init__(self, lm: LoadedModel, limits: SearchLimits | None = None) -> None:
        self.lm = lm
        self.model = lm.model
        self.tokenizer = lm.tokenizer
        self.cache = ContextCache(self.model, self.tokenizer)
        self.search = WordSearch(self.model, self.tokenizer, limits)

    @torch.no_grad()
    def words(self, text_before_cursor: str, n: int = 5) -> list[WordCandidate]:
        """The ``n`` most probable words at the cursor: completions of the partial word, or next words."""
        split = split_text(text_before_cursor)
        logprobs, hidden = self.cache.state(split.context)
        return self.search.candidates(logprobs, hidden, split.tail, n)

    @torch.no_grad()
    def continue_text(self, text: str, config: GenerationConfig) -> Generation:
        """Continue ``text`` with a generation strategy (greedy, sample or beam)."""
        return generate(self.model, self.tokenizer, text, config)
