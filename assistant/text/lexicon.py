"""The words a model may offer: those seen often enough in its training text (and in the user's text).

Subword search can spell strings that are not words ("StatesOur"); offering only known words (or words the model
is sure of) keeps the suggestion slots for real ones.
"""

from __future__ import annotations

import bisect
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.atomic import atomic_write_text
from assistant.text.words import WORD_RE

LEXICON_FILE = "lexicon.txt"


class Lexicon:
    """A set of words with case-tolerant membership (``The`` is known when ``the`` is)."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._words: set[str] = set(words)
        self._sorted: list[str] | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Lexicon:
        """One word per line, UTF-8."""
        text = Path(path).read_text(encoding="utf-8")
        return cls(w for w in text.split("\n") if w)

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 3) -> Lexicon:
        """Words occurring at least ``min_count`` times in ``texts``."""
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(WORD_RE.findall(t))
        return cls(w for w, c in counts.items() if c >= min_count)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write sorted, one word per line."""
        atomic_write_text(path, "\n".join(sorted(self._words)) + "\n")

    def add(self, words: Iterable[str]) -> None:
        """Learn more words (e.g. from the user's documents)."""
        self._words.update(words)
        self._sorted = None

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        w = self._words
        return word in w or word.lower() in w or word.capitalize() in w or word.isdigit()

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def knows_prefix(self, prefix: str) -> bool:
        """Whether some known word starts with ``prefix`` (case-tolerant as membership is): if none does, the
        lexicon cannot tell the words that complete it from junk (a word in another language or script)."""
        if self._sorted is None:
            self._sorted = sorted(self._words)
        for p in {prefix, prefix.lower(), prefix.capitalize()}:
            i = bisect.bisect_left(self._sorted, p)
            if i < len(self._sorted) and self._sorted[i].startswith(p):
                return True
        return False

    def __len__(self) -> int:
        return len(self._words)
