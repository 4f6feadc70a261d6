"""Word-frequency lists of a language (``wordfreq``'s, shipped offline): how common a word is in general, and
the likeliest words that start with a prefix.

Only the ``size`` most common words are kept (lower-cased, as wordfreq lists them), in a sorted array with a
cumulative sum, so the words of a prefix and their mass are two bisections away; the top words of prefixes of up
to three letters, whose ranges are long, are tabled when the list loads.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
import re
from array import array
from collections.abc import Iterator

from assistant.text.words import WORD_RE

DEFAULT_SIZE = 100_000
"""Words kept per language (the tail beyond adds little and costs memory)."""

WORDFREQ_CODES = {"no": "nb"}
"""wordfreq's code where the language detector names a language otherwise."""

_ELIDED = re.compile(r"\w+'")

SHORT_PREFIX = 3
"""Prefixes up to this long are answered from a table of their top words (longer ones have short ranges)."""

TOP_KEPT = 16
"""Words kept per short prefix in that table."""

ENGLISH_MARGIN = 1.5
"""A word at least this many Zipf units (about thirty times) commoner in English than in another language is left
out of that language's list: the English of its web text (French ``and``, ``of``, ``the``), not its own
words (``file``, ``date``, ``web`` stay)."""


class FrequencyList:
    """The common words of one language with their relative frequencies (summing to 1 over the list)."""

    def __init__(self, language: str, frequencies: dict[str, float], elided: dict[str, float] | None = None) -> None:
        """``elided``: frequencies of elided forms written joined to the next word (``l'``, ``qu'``), which are
        never offered as words but weigh the words written after them."""
        self.language = language
        """ISO 639-1 code (``fr``)."""
        total = sum(frequencies.values()) or 1.0
        self._total = total
        self._freq = {w: f / total for w, f in frequencies.items()}
        self._elided = {w: f / total for w, f in (elided or {}).items()}
        self._sorted = sorted(self._freq)
        self._cum = array("d", [0.0, *itertools.accumulate(self._freq[w] for w in self._sorted)])
        self._top: dict[str, list[tuple[str, float]]] = {}
        """The ``TOP_KEPT`` most frequent words of every prefix of up to ``SHORT_PREFIX`` characters (their
        ranges are long), filled in one pass over the words from the most frequent down."""
        for w in sorted(self._freq, key=self._freq.__getitem__, reverse=True):
            for n in range(SHORT_PREFIX + 1):
                if n > len(w):
                    break
                kept = self._top.setdefault(w[:n], [])
                if len(kept) < TOP_KEPT:
                    kept.append((w, self._freq[w]))

    @classmethod
    def from_wordfreq(cls, language: str, size: int = DEFAULT_SIZE) -> FrequencyList | None:
        """wordfreq's list of ``language`` (its best one), or None where wordfreq has none."""
        return _wordfreq_list(language, size)

    def __len__(self) -> int:
        return len(self._freq)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._freq

    def probability(self, word: str) -> float:
        """Relative frequency of ``word`` or of an elided form such as ``l'`` (case-insensitive; 0 when not
        listed)."""
        w = word.lower()
        return self._freq.get(w, 0.0) or self._elided.get(w, 0.0)

    def zipf(self, word: str) -> float:
        """wordfreq's Zipf scale: log10 of occurrences per billion words (about 7 for ``the``, 0 when unlisted)."""
        f = self._freq.get(word.lower(), 0.0) * self._total
        return max(0.0, math.log10(f * 1e9)) if f > 0 else 0.0

    def knows_prefix(self, prefix: str) -> bool:
        """Whether some listed word starts with ``prefix`` (case-insensitive)."""
        lo, hi = self._range(prefix.lower())
        return hi > lo

    def mass(self, prefix: str) -> float:
        """Total frequency of the words starting with ``prefix`` (case-insensitive)."""
        lo, hi = self._range(prefix.lower())
        return self._cum[hi] - self._cum[lo]

    def top(self, prefix: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` most frequent listed words starting with ``prefix`` (lower-cased), with frequencies."""
        p = prefix.lower()
        if len(p) <= SHORT_PREFIX and k <= TOP_KEPT:
            return self._top.get(p, [])[:k]
        lo, hi = self._range(p)
        return heapq.nlargest(k, ((w, self._freq[w]) for w in self._sorted[lo:hi]), key=lambda wf: wf[1])

    def starting(self, prefix: str, limit: int) -> list[str]:
        """Every listed word starting with ``prefix`` (lower-cased), if there are at most ``limit``; else none."""
        lo, hi = self._range(prefix.lower())
        return self._sorted[lo:hi] if hi - lo <= limit else []

    def _range(self, prefix: str) -> tuple[int, int]:
        if not prefix:
            return 0, len(self._sorted)
        lo = bisect.bisect_left(self._sorted, prefix)
        hi = bisect.bisect_left(self._sorted, prefix + "\U0010ffff", lo)
        return lo, hi


@functools.lru_cache(maxsize=4)
def _wordfreq_list(language: str, size: int) -> FrequencyList | None:
    """Read wordfreq's packed list directly (its own lookups cache the whole list, several times the size)."""
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - a runtime dependency
        return None
    path = wordfreq.available_languages("best").get(WORDFREQ_CODES.get(language, language))
    if path is None:
        return None
    english = _wordfreq_list("en", DEFAULT_SIZE) if language != "en" else None
    frequencies: dict[str, float] = {}
    elided: dict[str, float] = {}
    for i, words in enumerate(cbpack_bins(path)):
        f = 10 ** (-i / 100)  # bin i holds the words of frequency 10^(-i/100)
        zipf = 9 - i / 100
        for w in words:
            if english is not None and english.zipf(w) - zipf >= ENGLISH_MARGIN:
                continue
            if WORD_RE.fullmatch(w) and w not in frequencies:
                frequencies[w] = f
                if len(frequencies) >= size:
                    return FrequencyList(language, frequencies, elided)
            elif _ELIDED.fullmatch(w) and len(elided) < 100:
                elided.setdefault(w, f)
    return FrequencyList(language, frequencies, elided)


def cbpack_bins(path: str) -> Iterator[list[str]]:
    """The word bins of a wordfreq ``cBpack`` file (``wordfreq.read_cBpack``'s list), most frequent first, read one
    at a time from the compressed stream: a reader that stops after ``DEFAULT_SIZE`` words never decodes the
    rest (hundreds of thousands of strings that only fragment the heap once freed)."""
    import gzip

    import msgpack  # wordfreq's own dependency

    with gzip.open(path, "rb") as stream:
        unpacker = msgpack.Unpacker(stream, raw=False)
        count = unpacker.read_array_header()
        header = unpacker.unpack() if count else None
        if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
            raise ValueError(f"{path}: not a cBpack word list (header {header!r})")
        for _ in range(count - 1):
            yield unpacker.unpack()
