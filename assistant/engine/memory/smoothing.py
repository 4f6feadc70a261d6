"""Variable-order smoothing shared by the word memories: interpolated Witten-Bell over the contexts found.

A memory looks up the longest context it has evidence for (up to :data:`MAX_ORDER` previous words) and every
shorter one, each a :class:`Level` (how often the context occurred, how many different words followed it, how
often each did). ``P(w)`` starts from the memory's unigram distribution and walks up the levels:
``P_n(w) = (c_n(w) + s * T_n * P_{n-1}(w)) / (c_n + s * T_n)``. A level with no evidence of its own (as many
occurrences as the shorter context below it: the same occurrences, so the same followers) is skipped, so a
context seen once counts once however long it is; a sign-off seen in ten mails is trusted ten times.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.engine.memory.answer import NO_ANSWER, MemoryAnswer, shape

MAX_ORDER = 5
"""Previous words a context holds, at most."""

LONG_CONTEXT = 2
"""A context of at least this many words is a long match (its evidence can outweigh a source's average)."""


class Level(Protocol):
    """The words that followed one context."""

    total: float
    """How often the context occurred (with a word after it)."""
    types: int
    """How many different words followed it."""

    def count(self, word: str) -> float:
        """How often ``word`` followed."""

    def mass(self, prefix: str) -> float:
        """How often a word starting with ``prefix`` followed."""

    def top(self, prefix: str, k: int) -> list[str]:
        """The ``k`` words starting with ``prefix`` that followed most often."""


class Base(Protocol):
    """A memory's distribution of a word without context."""

    def probability(self, word: str) -> float:
        """``P(word)``."""

    def mass(self, prefix: str) -> float:
        """``P(the word starts with prefix)``."""

    def top(self, prefix: str, k: int) -> list[str]:
        """The ``k`` likeliest words starting with ``prefix``."""


def evidence(levels: Sequence[Level]) -> list[Level]:
    """``levels`` (shortest context first) without those that add no evidence to the one below them."""
    out: list[Level] = []
    for level in levels:
        if level.total <= 0:
            break
        if out and level.total >= out[-1].total:
            out[-1] = level  # the same occurrences: keep the longer context only
        else:
            out.append(level)
    return out


@dataclass(frozen=True)
class Chain:
    """One context's smoothed distribution: a base and the levels with evidence, shortest context first."""

    base: Base
    levels: list[Level]
    strength: float = 1.0
    """``s``: how much a context's number of different followers holds back trust in it."""
    depth: int = 0
    """Words in the longest context found."""

    def probability(self, word: str) -> float:
        """``P(word | context)``."""
        p = self.base.probability(word)
        for level in self.levels:
            back = self.strength * level.types
            p = (level.count(word) + back * p) / (level.total + back)
        return p

    def mass(self, prefix: str) -> float:
        """``P(the next word starts with prefix | context)``."""
        if not prefix:
            return 1.0
        m = self.base.mass(prefix)
        for level in self.levels:
            back = self.strength * level.types
            m = (level.mass(prefix) + back * m) / (level.total + back)
        return m

    def answer(self, prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest words starting with ``prefix`` (at a sentence start also their lower-case forms,
        offered capitalised unless the prefix starts in lower case), with ``P(word | prefix)`` and the prefix's mass."""
        starts = [prefix]
        if sentence_start and prefix and prefix[0].lower() != prefix[0]:
            starts.append(prefix[0].lower() + prefix[1:])
        mass = 0.0
        pool: set[str] = set()
        for s in starts:
            mass += self.mass(s)
            pool.update(self.base.top(s, k))
            for level in self.levels:
                pool.update(level.top(s, k))
        if mass <= 0 or not pool:
            return NO_ANSWER
        probs: dict[str, float] = defaultdict(float)
        capital = sentence_start and not prefix[:1].islower()  # a lower-case start typed there is meant
        for w in pool:
            shown = shape(w, capital)
            if shown.startswith(prefix):
                probs[shown] += self.probability(w)
        top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:k]
        mass = min(1.0, mass)
        return MemoryAnswer({w: min(1.0, p / mass) for w, p in top}, mass)

    @property
    def trust(self) -> float:
        """How far the longest context (when it holds two words or more) is trusted by its own evidence,
        ``c / (c + s * T)``; 0 for a shorter or no context."""
        if self.depth < LONG_CONTEXT or not self.levels:
            return 0.0
        top = self.levels[-1]
        return top.total / (top.total + self.strength * top.types)

    def best(self) -> tuple[str, float] | None:
        """The likeliest next word and its probability (None without a context level)."""
        if not self.levels:
            return None
        pool = {w for level in self.levels for w in level.top("", 1)}
        if not pool:
            return None
        scored = [(self.probability(w), w) for w in sorted(pool)]
        p, w = max(scored)
        return w, p
