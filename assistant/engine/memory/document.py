"""Document memory: what the text before the cursor has shown, as a word cache with recency and bigrams.

Incremental like the hidden-state cache: the memory holds the words of the last text it was given with their
end offsets; a new text keeps every word up to the first changed character (while it still ends a word there)
and pops and pushes only the rest, so an edit costs only the changed words and typing at the end costs one
word. Every count and every recorded probability is a function of the text alone, so the memory after a
sequence of edits equals one built from the final text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from assistant.engine.context import common_prefix, is_word_end
from assistant.engine.memory.answer import MemoryAnswer, shape
from assistant.text.words import WORD_RE


@dataclass(frozen=True)
class DocMemorySettings:
    """Constants of the document memory (fitted by ``benchmarks/fit_mixing.py``)."""

    decay: float = 0.95
    """Per-word decay of the recency cache (about 20 words of memory)."""
    recency: float = 0.25
    """Share of the unigram part given to the recency cache (the rest: plain counts over the document)."""
    bigram_strength: float = 1.0
    """Witten-Bell-style trust in the bigram: ``c(prev) / (c(prev) + strength * types(prev))``."""
    recent_candidates: int = 64
    """At a word start, the distinct words among this many last ones are offered with the bigram followers."""


class DocumentMemory:
    """Word unigram (counts and a recency cache) and bigram counts over the text before the cursor."""

    def __init__(self, settings: DocMemorySettings | None = None) -> None:
        self.settings = settings or DocMemorySettings()
        self.reset()

    def reset(self) -> None:
        """Forget the text."""
        self._text = ""
        self._words: list[str] = []
        self._ends: list[int] = []
        self.recorded: list[float] = []
        """For each word, the memory's probability of it from the words before it (for the mixing weights)."""
        self._undo: list[tuple[float, int]] = []
        self.unigrams: Counter[str] = Counter()
        self.followers: dict[str, Counter[str]] = defaultdict(Counter)
        self._decayed: dict[str, tuple[float, int]] = {}
        """word -> (decayed count, at which word index), decayed further lazily."""
        self._by_initial: dict[str, set[str]] = defaultdict(set)

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
            self._push(m.group(), m.end())
        self._text = context

    def _push(self, word: str, end: int) -> None:
        prev = self._words[-1] if self._words else None
        self.recorded.append(self.probability(word, prev) if self._words else 0.0)
        n = len(self._words)
        old = self._decayed.get(word, (0.0, n))
        self._undo.append(old)
        self._decayed[word] = (old[0] * self.settings.decay ** (n - old[1]) + 1.0, n)
        self._words.append(word)
        self._ends.append(end)
        self.unigrams[word] += 1
        if self.unigrams[word] == 1:
            self._by_initial[word[:1].lower()].add(word)
        if prev is not None:
            self.followers[prev][word] += 1

    def _pop(self) -> None:
        word = self._words.pop()
        self._ends.pop()
        self.recorded.pop()
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
            prev = self._words[-1]
            f = self.followers[prev]
            f[word] -= 1
            if not f[word]:
                del f[word]
                if not f:
                    del self.followers[prev]

    # -- queries ------------------------------------------------------------------------------------------------
    @property
    def words(self) -> list[str]:
        """The words of the text, in order."""
        return self._words

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.unigrams

    def probability(self, word: str, prev: str | None) -> float:
        """``P(word | prev)`` under the memory of the text so far."""
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
        uni = (1 - s.recency) * plain + s.recency * recent
        f = self.followers.get(prev) if prev is not None else None
        if not f:
            return uni
        total = max(1, self.unigrams[prev] - (prev == self._words[-1]))  # times prev was followed
        trust = total / (total + s.bigram_strength * len(f))
        return trust * f.get(word, 0) / total + (1 - trust) * uni

    def answer(self, prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest remembered words that start with ``prefix`` after the last word of the text."""
        if not self._words:
            return MemoryAnswer({}, 0.0)
        prev = self._words[-1]
        if prefix:
            pool = self._by_initial.get(prefix[:1].lower(), ())
        else:
            pool = set(self.followers.get(prev, ())) | set(self._words[-self.settings.recent_candidates :])
        probs: dict[str, float] = defaultdict(float)
        for w in pool:
            shown = shape(w, sentence_start)
            if shown.startswith(prefix):
                probs[shown] += self.probability(w, prev)
        mass = sum(probs.values()) if prefix else 1.0  # every word starts with the empty prefix
        if mass <= 0:
            return MemoryAnswer({}, 0.0)
        top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:k]
        return MemoryAnswer({w: p / mass for w, p in top}, min(1.0, mass))
