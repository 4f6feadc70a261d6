"""A word-frequency list as a source of prediction: the language's common words for the prefix typed, so a
word the writer has not used yet is still completed, and a measure of how common a word is in general.

The list answers like the memories (:class:`MemoryAnswer`: ``P(word | prefix)`` and the prefix's mass) and the
mixing weighs it by how well it has predicted the recent words, as it weighs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.engine.memory import MemoryAnswer
from assistant.engine.mixing import SOURCES
from assistant.text.frequency import TOP_KEPT, FrequencyList

COMMON_ZIPF = 2.5
"""Words at least this common (Zipf scale: about 300 per billion words) are common words."""

RARE_SLOPE = 0.5
"""Below ``COMMON_ZIPF`` a word's weight falls by this many powers of ten per Zipf unit."""

ELISIONS = frozenset(
    {"l'", "d'", "j'", "n'", "s'", "c'", "m'", "t'", "qu'", "jusqu'", "lorsqu'", "puisqu'", "un'", "dell'", "all'"}
)
"""Elided articles and pronouns written joined to the next word (``l'équipe``): the word after is looked up."""

_ELIDED = re.compile(r"^(\w+['’])(.*)$")

ELIDED_BEFORE = "aàâäeéèêëiîïoôöuùûüyÿhœæ"
"""The letters a word after an elision starts with: a vowel or a mute ``h`` (``l'entrée``, ``l'heure``, never
``l'de``); the list's words after an elision are only these."""

COMPOUNDING = frozenset({"de", "nl", "sv", "da", "nb", "no", "fi"})
"""Languages that write compounds as one word (``Netzverzeichnis``): a typed word no listed word starts is
completed as a listed head and a listed word after it."""

COMPOUND_MIN_HEAD = 4
"""Letters of a compound's head (a listed word, or one with a linking ``s``)."""

COMPOUND_MIN_PART = 4
"""Letters of a word offered after a head (the last part is a noun, verb or adjective, not ``an`` or ``zu``)."""

COMPOUND_MAX_ZIPF = 6.0
"""Words commoner than this (the language's function words) are not offered as a compound's last part."""

COMPOUND_MIN_REST = 2
"""Letters typed of a compound's last part before compounds are offered (after one, the list's guesses of the
part are mostly wrong)."""

COMPOUND_KNOWN = 10.0
"""How much likelier a last part is when the writer has written it (as a word of its own, any case)."""

COMPOUND_SCAN = 500
"""Listed words a typed last part may start for those the writer has written to be looked for among them."""

COMPOUND_SHARE = 0.1
"""``P(a compound goes on | its head was typed)``, times the head's frequency: the weight of the compounds."""

WORDLIST_PRIOR = 0.5
"""Weight of a frequency list before any word is written (the others' priors share the rest)."""


def foreign_prior(prior: Sequence[float]) -> tuple[float, ...]:
    """The prior weights of the :data:`~assistant.engine.mixing.SOURCES` in a document written in a language
    the network does not know, from the English ones: the frequency list gets ``WORDLIST_PRIOR``."""
    out = [p * (1 - WORDLIST_PRIOR) for p in prior]
    out[SOURCES.index("wordlist")] = WORDLIST_PRIOR
    return tuple(out)


def commonness(zipf: float) -> float:
    """Weight in (0, 1] of a word the writer has not used, from how common it is in general."""
    return 10 ** (RARE_SLOPE * (min(zipf, COMMON_ZIPF) - COMMON_ZIPF))


def reweigh(candidates: dict[str, float], common: FrequencyList, keep: set[str]) -> dict[str, float]:
    """``candidates`` with each word outside ``keep`` weighted by its :func:`commonness`, renormalised to the
    same total, so an invented word of the training mix does not crowd out the common word beside it."""
    total = sum(candidates.values())
    weighted = {w: p * (1.0 if w in keep else commonness(common.zipf(_plain(w)))) for w, p in candidates.items()}
    new = sum(weighted.values())
    if new <= 0 or total <= 0:
        return candidates
    return {w: p * total / new for w, p in weighted.items()}


class WordListSource:
    """The words of a :class:`FrequencyList`, shaped as the writer types them."""

    def __init__(self, words: FrequencyList) -> None:
        self.list = words

    @property
    def language(self) -> str:
        return self.list.language

    def probability(self, word: str) -> float:
        """Unigram probability of ``word`` (for the mixing weights)."""
        p = self.list.probability(_plain(word))
        if p or not (m := _ELIDED.match(word)) or _plain(m.group(1)).lower() not in ELISIONS:
            return p
        return self._elision(m.group(1)) * self.list.probability(m.group(2))

    def _elision(self, head: str) -> float:
        """How common an elided form is (wordfreq lists ``l'`` as ``l``, having split at the apostrophe)."""
        return self.list.probability(_plain(head)) or self.list.probability(head[:-1])

    def knows_prefix(self, prefix: str) -> bool:
        """Whether a listed word (or an elision and a listed word) starts with ``prefix``."""
        if self.list.knows_prefix(_plain(prefix)):
            return True
        m = _ELIDED.match(prefix)
        return bool(m) and _plain(m.group(1)).lower() in ELISIONS and self.list.knows_prefix(m.group(2))

    def answer(
        self, prefix: str, sentence_start: bool, k: int, known: Callable[[str], bool] | None = None
    ) -> MemoryAnswer:
        """The ``k`` most frequent words starting with ``prefix``, shaped like it; ``known``: whether the writer
        has written a word (a compound's last part they have written comes first)."""
        plain = _plain(prefix)
        words: dict[str, float] = {}
        mass = self.list.mass(plain) if prefix else 1.0
        for w, f in self.list.top(plain, k):
            words[_shape(w, prefix, sentence_start)] = f
        m = _ELIDED.match(prefix)
        if m and _plain(m.group(1)).lower() in ELISIONS:
            head, rest = m.group(1), m.group(2)
            share = self._elision(head)
            for w, f in self._after_elision(rest, k):
                words.setdefault(head + _shape(w, rest, False), share * f)
            mass += share * self._mass_after_elision(rest)
        if self.language in COMPOUNDING and len(prefix) >= COMPOUND_MIN_HEAD + COMPOUND_MIN_REST and len(words) < k:
            found, found_mass = self._compounds(prefix, k, known)
            for w, f in found:
                words.setdefault(w, f)
            mass += found_mass
        if "’" in prefix:
            words = {w.replace("'", "’"): f for w, f in words.items()}
        words = {w: f for w, f in words.items() if w.startswith(prefix)}
        if mass <= 0 or not words:
            return MemoryAnswer({}, 0.0)
        return MemoryAnswer({w: f / mass for w, f in words.items()}, min(1.0, mass))

    def _compounds(
        self, prefix: str, k: int, known: Callable[[str], bool] | None = None
    ) -> tuple[list[tuple[str, float]], float]:
        """Compounds that ``prefix`` starts, from its longest listed head (``Netzverz`` -> ``Netz`` and
        ``verzeichnis``): the ``k`` likeliest with their frequencies, and the mass of all of them."""
        low = prefix.lower()
        for cut in range(len(low) - COMPOUND_MIN_REST, COMPOUND_MIN_HEAD - 1, -1):
            head, rest = low[:cut], low[cut:]
            p_head = self.list.probability(head) or (head.endswith("s") and self.list.probability(head[:-1]))
            if not p_head or not rest.isalpha():
                continue
            top = {w for w, _ in self.list.top(rest, TOP_KEPT)}
            written: set[str] = set()
            if known is not None:  # each word asked once
                written = {
                    w for w in top.union(self.list.starting(rest, COMPOUND_SCAN)) if known(w) or known(w.capitalize())
                }
            parts = [
                (w, self.list.probability(w) * (COMPOUND_KNOWN if w in written else 1.0))
                for w in top | written
                if len(w) >= COMPOUND_MIN_PART and self.list.zipf(w) < COMPOUND_MAX_ZIPF
            ]
            if parts:
                parts.sort(key=lambda wf: wf[1], reverse=True)
                share = COMPOUND_SHARE * p_head
                found = [(prefix + w[len(rest) :], share * f) for w, f in parts[:k]]
                return found, share * self.list.mass(rest)
        return [], 0.0

    def _after_elision(self, rest: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` most frequent listed words starting with ``rest`` that may follow an elision."""
        if rest:
            return self.list.top(rest, k) if rest[0].lower() in ELIDED_BEFORE else []
        merged = [wf for c in ELIDED_BEFORE for wf in self.list.top(c, k)]
        return sorted(merged, key=lambda wf: wf[1], reverse=True)[:k]

    def _mass_after_elision(self, rest: str) -> float:
        """Total frequency of the listed words starting with ``rest`` that may follow an elision."""
        if rest:
            return self.list.mass(rest) if rest[0].lower() in ELIDED_BEFORE else 0.0
        return sum(self.list.mass(c) for c in ELIDED_BEFORE)


def as_the_writer_spells(answer: MemoryAnswer, prefix: str, known: Callable[[str], bool]) -> MemoryAnswer:
    """``answer`` (the list's, at the next word: ``prefix`` empty) with each lower-case listed word the writer
    has only written capitalised (``known``) offered capitalised: the lists are lower-cased, and a German noun
    (``Woche``) is then one candidate with the writer's own."""
    if prefix or not answer.words:
        return answer
    words: dict[str, float] = {}
    for w, p in answer.words.items():
        if w[:1].islower() and not known(w) and known(up := w[:1].upper() + w[1:]):
            w = up
        words[w] = words.get(w, 0.0) + p
    return MemoryAnswer(words, answer.mass)


def _plain(word: str) -> str:
    """The list's spelling: a straight apostrophe."""
    return word.replace("’", "'")


def _shape(word: str, prefix: str, sentence_start: bool) -> str:
    """A lower-cased listed word spelled as the prefix starts it (capital, all capitals, sentence start)."""
    if prefix[:1].isupper():
        return word.upper() if len(prefix) > 1 and prefix.isupper() else word[:1].upper() + word[1:]
    if not prefix and sentence_start:
        return word[:1].upper() + word[1:]
    return word
