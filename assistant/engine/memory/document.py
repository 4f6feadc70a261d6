"""Document memory: what the text before the cursor has shown, as a word cache with recency and variable-order
contexts (up to ``MAX_ORDER`` previous words, smoothed by :mod:`~assistant.engine.memory.smoothing`).

Incremental like the hidden-state cache: the memory holds the words of the last text it was given with their
end offsets; a new text keeps every word up to the first changed character (while it still ends a word there)
and pops and pushes only the rest, so an edit costs only the changed words and typing at the end costs one
word. Every count and every recorded probability is a function of the text alone, so the memory after a
sequence of edits equals one built from the final text.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from assistant.engine.context import common_prefix, is_word_end
from assistant.engine.memory.answer import NO_ANSWER, MemoryAnswer
from assistant.engine.memory.smoothing import MAX_ORDER, Chain, Level, evidence
from assistant.text.words import WORD_RE


@dataclass(frozen=True)
class DocMemorySettings:
    """Constants of the document memory (fitted by ``benchmarks/fit_mixing.py``)."""

    decay: float = 0.95
    """Per-word decay of the recency cache (about 20 words of memory)."""
    recency: float = 0.25
    """Share of the unigram part given to the recency cache (the rest: plain counts over the document)."""
    bigram_strength: float = 1.0
    """Witten-Bell trust in a context: ``c(ctx) / (c(ctx) + strength * types(ctx))`` (every order)."""
    recent_candidates: int = 64
    """At a word start, the distinct words among this many last ones are offered with the context's followers."""
    max_order: int = MAX_ORDER
    """Previous words a context holds, at most."""


class _Followers:
    """The words that followed one context in the document (a :class:`Level`)."""

    __slots__ = ("counts", "total", "types")

    def __init__(self, counts: Mapping[str, int], total: int) -> None:
        self.counts = counts
        self.total = float(total)
        self.types = len(counts)

    def count(self, word: str) -> float:
        return float(self.counts.get(word, 0))

    def mass(self, prefix: str) -> float:
        return float(sum(c for w, c in self.counts.items() if w.startswith(prefix)))

    def top(self, prefix: str, k: int) -> list[str]:
        items = [(c, w) for w, c in self.counts.items() if w.startswith(prefix)]
        return [w for _, w in heapq.nlargest(k, items)]


class _Unigram:
    """The document's words without context: plain counts and a recency cache (a ``Base``)."""

    def __init__(self, memory: DocumentMemory) -> None:
        self.memory = memory

    def probability(self, word: str) -> float:
        return self.memory.unigram(word)

    def mass(self, prefix: str) -> float:
        return sum(self.memory.unigram(w) for w in self._pool(prefix))

    def top(self, prefix: str, k: int) -> list[str]:
        return heapq.nlargest(k, self._pool(prefix), key=self.memory.unigram)

    def _pool(self, prefix: str) -> list[str]:
        m = self.memory
        if prefix:
            return [w for w in m._by_initial.get(prefix[:1].lower(), ()) if w.startswith(prefix)]
        return list(dict.fromkeys(m._words[-m.settings.recent_candidates :]))


class DocumentMemory:
    """Word counts (with a recency cache) and counts of the words after every context of up to ``max_order``
    words, over the text before the cursor."""

    def __init__(self, settings: DocMemorySettings | None = None) -> None:
        self.settings = settings or DocMemorySettings()
        self.reset()

    def reset(self) -> None:
        """Forget the text."""
        self._text = ""
        self.revision = getattr(self, "revision", 0) + 1
        """Counts the words pushed and popped and the resets (another value: the words changed)."""
        self._words: list[str] = []
        self._ends: list[int] = []
        self._gap_list: list[str] = []
        self.recorded: list[float] = []
        """For each word, the memory's probability of it from the words before it (for the mixing weights)."""
        self.recorded_trust: list[float] = []
        """For each word, the trust in the longest context before it (:attr:`Chain.trust`)."""
        self._undo: list[tuple[float, int]] = []
        self.unigrams: Counter[str] = Counter()
        self.ngrams: dict[tuple[str, ...], str | Counter[str]] = {}
        """Context (the words before, oldest first) -> words that followed it, with counts; a context followed
        once is mapped to that word alone (nine contexts in ten of a long text: 14 MB fewer for 20k words)."""
        self._totals: dict[tuple[str, ...], int] = {}
        """Context -> how often a word followed it (contexts followed more than once)."""
        self.gaps: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        """(word, next word) -> the text written between them, with counts (for phrases)."""
        self._decayed: dict[str, tuple[float, int]] = {}
        """word -> (decayed count, at which word index), decayed further lazily."""
        self._by_initial: dict[str, set[str]] = defaultdict(set)
        self._base = _Unigram(self)
        self._unigram_memo: dict[str, float] = {}
        """word -> :meth:`unigram` for the current words (a keystroke asks for the same words many times)."""

    # -- incremental update -------------------------------------------------------------------------------------
    def update(self, context: str) -> None:
        """Make the memory hold the words of ``context`` (which ends at a word end or is empty)."""
        if context == self._text:
            return
        keep = common_prefix(self._text, context)
        while self._ends and not (
            self._ends[-1] <= keep and (self._ends[-1] == len(context) or is_word_end(context, self._ends[-1]))
        ):
            self._pop()
        start = self._ends[-1] if self._ends else 0
        for m in WORD_RE.finditer(context, start):
            self._push(m.group(), m.end(), context[start : m.start()])
            start = m.end()
        self._text = context

    def _contexts(self) -> list[tuple[str, ...]]:
        """The contexts (shortest first) that end at the last word."""
        n = len(self._words)
        return [tuple(self._words[n - k : n]) for k in range(1, min(self.settings.max_order, n) + 1)]

    def _push(self, word: str, end: int, gap: str) -> None:
        self.revision += 1
        contexts = self._contexts()
        chain = self._chain(contexts) if self._words else None
        self.recorded.append(chain.probability(word) if chain is not None else 0.0)
        self.recorded_trust.append(chain.trust if chain is not None else 0.0)
        self._unigram_memo.clear()
        n = len(self._words)
        old = self._decayed.get(word, (0.0, n))
        self._undo.append(old)
        self._decayed[word] = (old[0] * self.settings.decay ** (n - old[1]) + 1.0, n)
        if self._words:
            self.gaps[(self._words[-1], word)][gap] += 1
        self._gap_list.append(gap)
        self._words.append(word)
        self._ends.append(end)
        self.unigrams[word] += 1
        if self.unigrams[word] == 1:
            self._by_initial[word[:1].lower()].add(word)
        for ctx in contexts:
            self._count(ctx, word)

    def _pop(self) -> None:
        self.revision += 1
        self._unigram_memo.clear()
        word = self._words.pop()
        self._ends.pop()
        self.recorded.pop()
        self.recorded_trust.pop()
        gap = self._gap_list.pop()
        old = self._undo.pop()
        if old[0] == 0.0:
            del self._decayed[word]
        else:
            self._decayed[word] = old
        self.unigrams[word] -= 1
        if not self.unigrams[word]:
            del self.unigrams[word]
            self._by_initial[word[:1].lower()].discard(word)
        if self._words:
            _drop(self.gaps, (self._words[-1], word), gap)
        for ctx in self._contexts():
            self._uncount(ctx, word)

    def _count(self, ctx: tuple[str, ...], word: str) -> None:
        """One more ``word`` after ``ctx``."""
        found = self.ngrams.get(ctx)
        if found is None:
            self.ngrams[ctx] = word
            return
        if isinstance(found, str):
            found = self.ngrams[ctx] = Counter({found: 1})
            self._totals[ctx] = 1
        found[word] += 1
        self._totals[ctx] += 1

    def _uncount(self, ctx: tuple[str, ...], word: str) -> None:
        """One ``word`` fewer after ``ctx`` (back to the single word when one follower seen once is left)."""
        found = self.ngrams[ctx]
        if isinstance(found, str):
            del self.ngrams[ctx]
            return
        found[word] -= 1
        if not found[word]:
            del found[word]
        self._totals[ctx] -= 1
        if self._totals[ctx] == 1:
            (self.ngrams[ctx],) = found
            del self._totals[ctx]

    # -- queries ------------------------------------------------------------------------------------------------
    @property
    def words(self) -> list[str]:
        """The words of the text, in order."""
        return self._words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.unigrams

    def unigram(self, word: str) -> float:
        """``P(word)`` without context: plain counts mixed with the recency cache."""
        found = self._unigram_memo.get(word)
        if found is not None:
            return found
        n = len(self._words)
        if not n:
            return 0.0
        s = self.settings
        count = self.unigrams.get(word, 0)
        plain = count / n
        recent = 0.0
        if count:
            value, at = self._decayed[word]
            norm = (1 - s.decay**n) / (1 - s.decay)
            recent = value * s.decay ** (n - at) / norm
        p = self._unigram_memo[word] = (1 - s.recency) * plain + s.recency * recent
        return p

    def chain(self, context: Sequence[str]) -> Chain:
        """The smoothed distribution after ``context`` (the words before, oldest first)."""
        n = len(context)
        return self._chain([tuple(context[n - k :]) for k in range(1, min(self.settings.max_order, n) + 1)])

    def _chain(self, contexts: list[tuple[str, ...]]) -> Chain:
        """The smoothed distribution after the longest of ``contexts`` (shortest first, each one word longer)."""
        levels: list[Level] = []
        depth = 0
        for ctx in contexts:
            found = self.ngrams.get(ctx)
            if not found:
                break
            if isinstance(found, str):
                levels.append(_Followers({found: 1}, 1))
            else:
                levels.append(_Followers(found, self._totals[ctx]))
            depth = len(ctx)
        return Chain(self._base, evidence(levels), self.settings.bigram_strength, depth)

    def probability(self, word: str, context: Sequence[str] | str | None) -> float:
        """``P(word | context)`` under the memory of the text so far (``context``: the words before, or one
        previous word)."""
        if not self._words:
            return 0.0
        if context is None:
            return self.unigram(word)
        return self.chain([context] if isinstance(context, str) else context).probability(word)

    def answer(self, prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest remembered words that start with ``prefix`` after the words of the text."""
        if not self._words:
            return NO_ANSWER
        return self.chain(self._words).answer(prefix, sentence_start, k)

    def reading(self) -> AbstractContextManager[object]:
        """Nothing to hold: the document memory is read and changed by one thread."""
        return nullcontext()

    def here(self) -> Chain | None:
        """The smoothed distribution after the words of the text (None while it has none)."""
        return self.chain(self._words) if self._words else None

    def gap(self, word: str, following: str) -> str | None:
        """What the text most often holds between ``word`` and ``following`` (None: never seen together)."""
        found = self.gaps.get((word, following))
        return found.most_common(1)[0][0] if found else None


def _drop(table: dict, key: object, item: str) -> None:
    counts = table[key]
    counts[item] -= 1
    if not counts[item]:
        del counts[item]
        if not counts:
            del table[key]
