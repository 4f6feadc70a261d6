"""Per-word records of the mixing's sources over the last words of a text, reused while the text grows.

The mixing weights are fitted on each recent word's probability under every source, given the words before it.
A word adds one row at a word end, so the rows of the words before it are kept and only the new ones are asked
for: the window's rows are recomputed only when an edit changed a word inside it (or the sources changed).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np


class RecentRecords:
    """Rows ``compute(i)`` for the last positions of a word list, each a function of ``words[i - reach : i + 1]``."""

    def __init__(self, reach: int, width: int) -> None:
        self.reach = reach
        """Words before a position that its row depends on."""
        self.width = width
        """Values per row."""
        self._key: Hashable = None
        self._start = 0
        """Position of the first word in :attr:`_words`."""
        self._words: list[str] = []
        self._rows = np.zeros((0, width))
        """Rows of the last ``len(_rows)`` positions of ``_words``."""
        self.computed = 0
        """Rows computed since creation (a measure of the work done)."""

    def rows(
        self, words: Sequence[str], count: int, key: Hashable, compute: Callable[[int], Sequence[float]]
    ) -> np.ndarray:
        """``(count, width)``: the rows of the last ``count`` positions of ``words``; ``key`` names the sources
        (another key drops every kept row)."""
        n = len(words)
        first = n - count
        lo = max(0, first - self.reach)
        window = list(words[lo:n])
        kept: dict[int, np.ndarray] = {}
        if key == self._key and self._rows.shape[0]:
            old_end = self._start + len(self._words)
            common_lo, common_hi = max(lo, self._start), min(n, old_end)
            same = common_hi > common_lo and (
                window[common_lo - lo : common_hi - lo]
                == self._words[common_lo - self._start : common_hi - self._start]
            )
            if same:
                row0 = old_end - self._rows.shape[0]  # position of the first kept row
                reach_lo = common_lo + self.reach if common_lo > 0 else 0  # the words before it kept too
                for i in range(max(first, row0, reach_lo), common_hi):
                    kept[i] = self._rows[i - row0]
        out = np.zeros((max(count, 0), self.width))
        for j, i in enumerate(range(first, n)):
            row = kept.get(i)
            if row is None:
                row = np.asarray(compute(i), dtype=np.float64)
                self.computed += 1
            out[j] = row
        self._key, self._start, self._words, self._rows = key, lo, window, out
        return out
