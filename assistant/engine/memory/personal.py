"""Personal memory, counting and answering: word unigram and bigram counts over the paragraphs of the writer's
documents, serving at once.

Counts are sums over paragraphs (bigrams never cross a paragraph), so the memory is a function of the multiset of
paragraphs it was given: :meth:`PersonalWords.change` adds and subtracts paragraphs. Which paragraphs those are
(documents, privacy, the file) is the store's business (:mod:`assistant.store.memory`).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from assistant.engine.memory.answer import MemoryAnswer, shape
from assistant.text.words import words

FOLLOWER_CACHE = 128
"""Previous words whose follower tables are kept ready for prefix queries."""

SCAN_LIMIT = 4000
"""Entries of a ranked list scanned for a prefix's top words (the masses are exact whatever this is)."""


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` holding the memory's lock: a sync after a save (a worker thread) never changes the counts
    while a keystroke's query (another thread) reads them."""

    @wraps(method)
    def run(self: PersonalWords, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


@dataclass
class _Ranked:
    """A count table prepared for prefix queries."""

    by_word: list[str]
    """Words in code-point order."""
    cum: list[int]
    """``cum[i]``: total count of ``by_word[:i]``."""
    by_count: list[str]
    """Words by count, most frequent first."""
    total: int
    counts: Mapping[str, int]

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> _Ranked:
        by_word = sorted(counts)
        cum = [0, *itertools.accumulate(counts[w] for w in by_word)]
        return cls(by_word, cum, sorted(counts, key=counts.__getitem__, reverse=True), cum[-1], counts)

    def span(self, prefix: str) -> tuple[int, int]:
        """Positions in :attr:`by_word` of the words that start with ``prefix``."""
        lo = bisect.bisect_left(self.by_word, prefix)
        return lo, bisect.bisect_left(self.by_word, prefix + "\U0010ffff", lo)

    def mass(self, prefix: str) -> int:
        """Total count of the words that start with ``prefix``."""
        lo, hi = self.span(prefix)
        return self.cum[hi] - self.cum[lo]

    def top(self, prefix: str, k: int) -> list[str]:
        """The ``k`` most frequent words that start with ``prefix``."""
        if not prefix:
            return self.by_count[:k]
        lo, hi = self.span(prefix)
        if hi - lo <= 256 or hi - lo < len(self.by_word) // 50:
            return heapq.nlargest(k, self.by_word[lo:hi], key=self.counts.__getitem__)
        found = []
        for w in self.by_count[:SCAN_LIMIT]:  # dense enough: the first matches come soon
            if w.startswith(prefix):
                found.append(w)
                if len(found) >= k:
                    break
        return found


class PersonalWords:
    """Word unigram and bigram counts over a multiset of paragraphs."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.unigrams: dict[str, int] = {}
        self.followers: dict[str, dict[str, int]] = {}
        """prev -> {next word -> count} (bigrams within paragraphs)."""
        self._follow_total: dict[str, int] = {}
        """prev -> how many bigrams start with it."""
        self.total = 0
        self.revision = 0
        """Bumped on every change (callers cache answers per revision)."""
        self._uni: _Ranked | None = None
        self._followers_ready: OrderedDict[str, _Ranked] = OrderedDict()

    @_locked
    def change(self, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        """Count the paragraphs ``added`` and stop counting those ``removed`` (each counted before)."""
        for text in removed:
            self._count(text, -1)
        for text in added:
            self._count(text, +1)
        self._changed()

    def _count(self, text: str, sign: int) -> None:
        ws = words(text)
        self.total += sign * len(ws)
        uni, followers, totals = self.unigrams, self.followers, self._follow_total
        for w, k in Counter(ws).items():
            c = uni.get(w, 0) + sign * k
            if c:
                uni[w] = c
            else:
                del uni[w]
        for (a, b), k in Counter(itertools.pairwise(ws)).items():
            t = totals.get(a, 0) + sign * k
            if t:
                totals[a] = t
            else:
                del totals[a]
            f = followers.get(a)
            if f is None:
                f = followers[a] = {}
            c = f.get(b, 0) + sign * k
            if c:
                f[b] = c
            else:
                del f[b]
                if not f:
                    del followers[a]

    def _changed(self) -> None:
        self.revision += 1
        self._uni = None
        self._followers_ready.clear()

    def counts(self) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """The counts, in plain containers (for comparisons)."""
        return dict(self.unigrams), {a: dict(f) for a, f in self.followers.items()}

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.unigrams

    @_locked
    def probability(self, word: str, prev: str | None) -> float:
        """``P(word | prev)``: the bigram interpolated with the unigram (Witten-Bell weights)."""
        if not self.total:
            return 0.0
        uni = self.unigrams.get(word, 0) / self.total
        f = self.followers.get(prev) if prev is not None else None
        if not f:
            return uni
        total = self._follow_total[prev]  # type: ignore[index]
        trust = total / (total + len(f))
        return trust * f.get(word, 0) / total + (1 - trust) * uni

    @_locked
    def answer(self, prev: str | None, prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest words starting with ``prefix`` after ``prev``, with the prefix's mass."""
        if not self.total:
            return MemoryAnswer({}, 0.0)
        if self._uni is None:
            self._uni = _Ranked.of(self.unigrams)
        starts = [prefix]
        if sentence_start and prefix and prefix[0].lower() != prefix[0]:
            starts.append(prefix[0].lower() + prefix[1:])
        elif sentence_start and not prefix:
            starts = [""]
        f = self.followers.get(prev) if prev is not None else None
        tables = [(self._uni, 1.0)]
        trust = 0.0
        if f:
            ranked = self._ranked_followers(prev)  # type: ignore[arg-type]
            trust = ranked.total / (ranked.total + len(f))
            tables = [(ranked, trust), (self._uni, 1.0 - trust)]
        mass = 0.0
        pool: set[str] = set()
        for table, weight in tables:
            for s in starts:
                mass += weight * table.mass(s) / table.total
                pool.update(table.top(s, k))
        if mass <= 0 or not pool:
            return MemoryAnswer({}, 0.0)
        probs: dict[str, float] = defaultdict(float)
        for w in pool:
            probs[shape(w, sentence_start)] += self.probability(w, prev)
        top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:k]
        return MemoryAnswer({w: min(1.0, p / mass) for w, p in top}, min(1.0, mass))

    @_locked
    def vocabulary(self, limit: int | None = None) -> list[tuple[str, int]]:
        """The learned words with their counts, most frequent first (then alphabetically); ``limit`` keeps the
        first ones."""
        ranked = sorted(self.unigrams.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked if limit is None else ranked[:limit]

    def _ranked_followers(self, prev: str) -> _Ranked:
        ready = self._followers_ready.get(prev)
        if ready is None:
            ready = _Ranked.of(self.followers[prev])
            self._followers_ready[prev] = ready
            if len(self._followers_ready) > FOLLOWER_CACHE:
                self._followers_ready.popitem(last=False)
        else:
            self._followers_ready.move_to_end(prev)
        return ready

    def __len__(self) -> int:
        return self.total
