"""Agreement of a word's ending with the word before it, learned from the writer's text: in French, German or
Spanish the ending of an adjective or participle follows the noun or pronoun before it (``les données
compilées``, ``les fonctions locales``, ``il est interprété``), and the memories know a stem in one form while
the writer needs another.

From every pair of neighbouring words of the document and of the writer's personal documents it counts the next
word's last one, two and three letters after the word before it and after that word's own ending. At a cursor,
each candidate is weighed by how much likelier its ending is after the word before the cursor than in general
(Witten-Bell smoothing from the word to its ending to no context), so the forms of one stem are ranked by the
context. Only once a few letters are typed (``MIN_PREFIX``), where the candidates are mostly forms of one stem:
before that it would reorder unrelated words.

Measured on the French, German and Spanish development texts (``benchmarks/languages.py``, docs/benchmarks.md):
+0.2 to +0.8 KSR@3 points; on English text it costs 0.7 (the network knows English agreement), so the predictor
uses it only in a language the network does not know.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass

ORDERS = (1, 2, 3)
"""Lengths of the endings counted."""

MIN_LETTERS = 2
"""Letters a word keeps before an ending (shorter words have no ending of that length)."""

MIN_PREFIX = 3
"""Letters typed before the candidates are reweighed (1 or 2: about half the gain, and a loss in German)."""

PERSONAL_WORDS = 100_000
"""Words of the personal documents counted (the first ones, in the memory's order): about 12 MB of counts."""

STEP_WORDS = 2_000
"""Words of the personal documents counted per :meth:`Agreement.step` (about 20 ms)."""


@dataclass(frozen=True)
class AgreementSettings:
    """Constants of the reweighing."""

    strength: float = 1.0
    """Power of the likelihood ratio (0: no effect)."""
    cap: float = 8.0
    """Largest factor either way."""


def ending(word: str, k: int) -> str | None:
    """The last ``k`` letters of ``word`` in lower case, or None when it is too short to have them."""
    if len(word) < k + MIN_LETTERS:
        return None
    return word[-k:].lower()


class EndingCounts:
    """Counts of next-word endings after words and after word endings."""

    def __init__(self) -> None:
        self.pairs: Counter[tuple[str, str, int, str]] = Counter()
        """(kind, context, k, ending) -> count; kind ``w`` a word, ``e`` an ending of length k."""
        self.contexts: Counter[tuple[str, str, int]] = Counter()
        self.kinds: Counter[tuple[str, str, int]] = Counter()
        """Distinct endings seen after each context (Witten-Bell's T)."""
        self.endings: Counter[tuple[int, str]] = Counter()
        self.totals: Counter[int] = Counter()
        self.words = 0
        """Words counted."""

    def add(self, paragraph: Sequence[str], sign: int = 1, context: int = 0) -> None:
        """Count (``sign`` 1) or uncount (-1) the neighbouring words of one paragraph; its first ``context``
        words only precede the rest (they were counted as words already)."""
        self.words += sign * (len(paragraph) - context)
        for prev, word in itertools.pairwise(paragraph):
            self._pair(prev, word, sign)

    def _pair(self, prev: str, word: str, sign: int) -> None:
        low = prev.lower()
        for k in ORDERS:
            end = ending(word, k)
            if end is None:
                continue
            self.endings[(k, end)] += sign
            self.totals[k] += sign
            for kind, ctx in (("w", low), ("e", ending(prev, k))):
                if ctx is None:
                    continue
                key = (kind, ctx, k, end)
                before = self.pairs[key]
                self.pairs[key] = before + sign
                self.contexts[(kind, ctx, k)] += sign
                if before == 0 and sign > 0:
                    self.kinds[(kind, ctx, k)] += 1
                elif before + sign <= 0:
                    self.kinds[(kind, ctx, k)] -= 1
                    del self.pairs[key]


def probability(tables: Sequence[EndingCounts], prev: str, k: int, end: str) -> tuple[float, float]:
    """``P(ending | word before)`` under the summed ``tables``, smoothed down to ``P(ending)``, and
    ``P(ending)`` (add-half)."""
    total = sum(t.totals[k] for t in tables)
    if total <= 0:
        return 0.0, 0.0
    base = (sum(t.endings[(k, end)] for t in tables) + 0.5) / (total + 0.5 * len(ORDERS) * 26)
    p = base
    for kind, ctx in (("e", ending(prev, k)), ("w", prev.lower())):
        if ctx is None:
            continue
        n = sum(t.contexts[(kind, ctx, k)] for t in tables)
        if n <= 0:
            continue
        seen = sum(t.kinds[(kind, ctx, k)] for t in tables)
        lam = n / (n + seen)
        p = lam * sum(t.pairs[(kind, ctx, k, end)] for t in tables) / n + (1 - lam) * p
    return p, base


class Agreement:
    """Weighs word candidates by how their endings agree with the word before the cursor, from the counts of
    the document (kept in step with its words) and of the personal documents (counted between keystrokes)."""

    def __init__(self, settings: AgreementSettings | None = None) -> None:
        self.settings = settings or AgreementSettings()
        self.document = EndingCounts()
        self._document_words: list[str] = []
        self._document_revision: Hashable = None
        self.personal = EndingCounts()
        """The counts of the personal documents in use (the last complete count)."""
        self._personal_key: Hashable = None
        self._counting: tuple[Hashable, EndingCounts, Callable[[], Iterable[Sequence[str]]]] | None = None
        self._rest: Iterator[Sequence[str]] | None = None

    def follow_document(self, words: list[str], revision: Hashable = None) -> None:
        """Count the document's words as they are now: only the words after the first one that changed
        (``revision``: the same value as last time says they did not change)."""
        if revision is not None and revision == self._document_revision:
            return
        self._document_revision = revision
        old = self._document_words
        if len(words) >= len(old) and words[: len(old)] == old:
            same = len(old)
        else:
            same = 0
            while same < min(len(old), len(words)) and old[same] == words[same]:
                same += 1
            self.document.add(old[max(0, same - 1) :], -1, context=min(same, 1))
        self.document.add(words[max(0, same - 1) :], context=min(same, 1))
        del old[same:]
        old.extend(words[same:])

    def follow_personal(self, key: Hashable, paragraphs: Callable[[], Iterable[Sequence[str]]]) -> None:
        """Personal documents named ``key`` (another key: they changed): their count starts, to be done by
        :meth:`step`, which also takes their snapshot (not the keystroke); the last complete count is used until
        then."""
        if key == self._personal_key or (self._counting is not None and self._counting[0] == key):
            return
        self._counting, self._rest = (key, EndingCounts(), paragraphs), None

    def step(self) -> bool:
        """Count the next words of the personal documents (at most ``STEP_WORDS``); True if it did any."""
        if self._counting is None:
            return False
        key, counts, paragraphs = self._counting
        if self._rest is None:
            self._rest = iter(paragraphs())
        rest = self._rest
        done = 0
        complete = True
        for paragraph in rest:
            counts.add(paragraph)
            done += len(paragraph)
            if counts.words >= PERSONAL_WORDS:
                break
            if done >= STEP_WORDS:
                complete = False
                break
        if complete:
            self.personal, self._personal_key, self._counting, self._rest = counts, key, None, None
        return True

    def factor(self, prev: str, word: str) -> float:
        """How much likelier ``word``'s endings are after ``prev`` than in general (1: no evidence)."""
        tables = (self.document, self.personal)
        log = 0.0
        used = 0
        for k in ORDERS:
            end = ending(word, k)
            if end is None:
                continue
            p, base = probability(tables, prev, k, end)
            if p <= 0 or base <= 0:
                continue
            log += math.log(p / base)
            used += 1
        if not used:
            return 1.0
        cap = math.log(self.settings.cap)
        return math.exp(max(-cap, min(cap, self.settings.strength * log / used)))

    def reweigh(self, prev: str, candidates: dict[str, float]) -> dict[str, float]:
        """``candidates`` weighed by :meth:`factor` after ``prev``, renormalised to the same total."""
        if not prev or not candidates or self.settings.strength <= 0:
            return candidates
        total = sum(candidates.values())
        weighted = {w: p * self.factor(prev, w) for w, p in candidates.items()}
        new = sum(weighted.values())
        if new <= 0 or total <= 0:
            return candidates
        return {w: p * total / new for w, p in weighted.items()}


AGREEMENT = AgreementSettings()
"""The settings the predictor uses by default."""
