"""Personal memory, counting and answering: word counts after every context of up to ``MAX_ORDER`` words within
the paragraphs of the writer's documents, smoothed by :mod:`~assistant.engine.memory.smoothing`, serving at once.

Counts are sums over paragraphs (no context crosses a paragraph), so the memory is a function of the multiset of
paragraphs it was given (:meth:`PersonalWords.change` adds and subtracts paragraphs; which ones is the store's
business, :mod:`assistant.store.memory`). The heavy part is an immutable numpy index of a snapshot: word ids in
code-point order, and per context length one sorted array of ``context hash (40 bits) | next word id (24 bits)``
keys with counts, so a context's followers are one contiguous run and the followers starting with a prefix are
a sub-run (a prefix's words have consecutive ids). Changes since the snapshot are kept as small signed counts
beside it and answered together with it, while a new index is built (in a background thread when the memory is
``background``, else at the next query once the changes pass :data:`DELTA_WORDS`), so a saved document reaches
the memory at once and no full rebuild blocks a keystroke.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache, wraps
from typing import Any

import numpy as np

from assistant.engine.memory.answer import NO_ANSWER, MemoryAnswer
from assistant.engine.memory.smoothing import MAX_ORDER, Chain, Level, evidence
from assistant.heap import release_free
from assistant.text.words import WORD_RE

WORD_BITS = 24
"""Bits of a key holding the next word's id (at most 16 M different words)."""
_WORD_MASK = (1 << WORD_BITS) - 1
_MULT = 1_000_003
_MIX = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1

DELTA_WORDS = 20_000
"""Words changed since the index was built beyond which a memory without a background thread rebuilds it."""

_END = np.full(1, -1, dtype=np.int32)

SMALL_RUN = 512
"""Followers of a context up to this many are read into a dict at once."""

SCAN_LIMIT = 4000
"""Entries of the by-count ranking scanned for a prefix's top words (the masses are exact whatever this is)."""


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` holding the memory's lock: a change (a worker thread) never meets a query half-way."""

    @wraps(method)
    def run(self: PersonalWords, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


def _key(ids: Sequence[int]) -> int:
    """The 40-bit hash of a context (word ids, oldest first), the same as the index's."""
    h = 0
    for i in reversed(ids):
        h = (h * _MULT + i + 1) & _U64
    return ((h * _MIX) & _U64) >> WORD_BITS


class _Index:
    """The counts of a snapshot of paragraphs, in numpy arrays (immutable once built)."""

    def __init__(self, paragraphs: Counter[str], max_order: int = MAX_ORDER) -> None:
        findall = WORD_RE.findall
        first: dict[str, int] = {}
        number = first.setdefault
        parts = [np.full(max_order, -1, dtype=np.int32)]
        for text, k in paragraphs.items():  # one pass: ids in order of first appearance, -1 after each paragraph
            ws = findall(text)
            if ws:
                ids = np.fromiter((number(w, len(first)) for w in ws), dtype=np.int32, count=len(ws))
                parts.extend([np.append(ids, -1)] * k)
        if len(first) > _WORD_MASK:
            raise ValueError("too many different words for the personal memory")
        self.vocab: list[str] = sorted(first)
        self.ids = dict(zip(self.vocab, range(len(self.vocab)), strict=True))
        rank = np.fromiter(map(self.ids.__getitem__, first), dtype=np.int64, count=len(first))  # first -> sorted
        tokens = np.concatenate(parts).astype(np.int64)  # (N,)
        del parts, first
        real = tokens >= 0
        tokens[real] = rank[tokens[real]]
        self.unigram = np.bincount(tokens[real], minlength=len(self.vocab)).astype(np.int64)  # (V,)
        self.uni_cum = np.concatenate([[0], np.cumsum(self.unigram)])
        self.by_count = np.argsort(-self.unigram, kind="stable")
        self.total = int(self.unigram.sum())
        self.keys: list[np.ndarray] = []
        """Per context length - 1: sorted unique ``context hash << 24 | next id`` keys."""
        self.cums: list[np.ndarray] = []
        """Per context length - 1: cumulative counts of the keys (one longer, from 0)."""
        h = np.zeros(len(tokens), dtype=np.uint64)
        valid = real.copy()
        for order in range(1, max_order + 1):
            prev = np.full(len(tokens), -1, dtype=np.int64)
            prev[order:] = tokens[:-order]
            valid &= prev >= 0
            h = h * np.uint64(_MULT) + (prev + 1).astype(np.uint64)
            where = np.nonzero(valid)[0]
            if not len(where):
                break
            ctx = (h[where] * np.uint64(_MIX)) >> np.uint64(WORD_BITS)
            keys = np.sort((ctx << np.uint64(WORD_BITS)) | tokens[where].astype(np.uint64))
            starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
            counts = np.diff(np.append(starts, len(keys)))
            self.keys.append(keys[starts])
            self.cums.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))  # counts < 2**31

    def span(self, prefix: str) -> tuple[int, int]:
        """Ids of the words starting with ``prefix``."""
        lo = bisect.bisect_left(self.vocab, prefix)
        return lo, bisect.bisect_left(self.vocab, prefix + "\U0010ffff", lo)

    def run(self, order: int, ctx: int) -> tuple[int, int]:
        """Positions in ``keys[order - 1]`` of the followers of context hash ``ctx``."""
        keys = self.keys[order - 1]
        base = np.uint64(ctx << WORD_BITS)
        lo = int(np.searchsorted(keys, base))
        return lo, int(np.searchsorted(keys, base | np.uint64(_WORD_MASK), side="right"))


class _Context:
    """The followers of one context: a run of the index plus the signed changes since it was built."""

    __slots__ = ("ctx", "cum", "delta", "hi", "index", "keys", "lo", "table", "total", "types")

    def __init__(self, index: _Index, order: int, ctx: int | None, delta: Counter[str] | None) -> None:
        self.index, self.delta, self.ctx = index, delta, ctx
        self.lo = self.hi = 0
        if ctx is not None and order <= len(index.keys):
            self.lo, hi = index.run(order, ctx)
            self.keys, self.cum = index.keys[order - 1], index.cums[order - 1]
        else:
            hi = 0
            self.keys = self.cum = None
        self.hi = hi
        self.table: dict[int, int] | None = None
        """Word id -> count, for a short run (one dict look-up per word instead of a search)."""
        if 0 < hi - self.lo <= SMALL_RUN:
            run = (self.keys[self.lo : hi] & np.uint64(_WORD_MASK)).tolist()  # type: ignore[index]
            self.table = dict(zip(run, np.diff(self.cum[self.lo : hi + 1]).tolist(), strict=True))  # type: ignore[index]
        self.total = float(self.cum[hi] - self.cum[self.lo]) if hi > self.lo else 0.0
        self.types = hi - self.lo
        if delta:
            for w, d in delta.items():
                before = self._base_count(w)
                self.total += d
                self.types += int(before + d > 0) - int(before > 0)

    def _base_count(self, word: str) -> int:
        if self.hi <= self.lo:
            return 0
        i = self.index.ids.get(word)
        if i is None:
            return 0
        if self.table is not None:
            return self.table.get(i, 0)
        key = np.uint64((self.ctx << WORD_BITS) | i)  # type: ignore[operator]
        j = int(np.searchsorted(self.keys[self.lo : self.hi], key)) + self.lo  # type: ignore[index]
        if j < self.hi and self.keys[j] == key:  # type: ignore[index]
            return int(self.cum[j + 1] - self.cum[j])  # type: ignore[index]
        return 0

    def count(self, word: str) -> float:
        return float(self._base_count(word) + (self.delta.get(word, 0) if self.delta else 0))

    def _sub(self, prefix: str) -> tuple[int, int]:
        a, b = self.index.span(prefix)
        run = self.keys[self.lo : self.hi]  # type: ignore[index]
        base = self.ctx << WORD_BITS  # type: ignore[operator]
        lo = int(np.searchsorted(run, np.uint64(base | a))) + self.lo
        return lo, int(np.searchsorted(run, np.uint64(base | b))) + self.lo

    def mass(self, prefix: str) -> float:
        m = 0.0
        if self.hi > self.lo:
            lo, hi = self._sub(prefix) if prefix else (self.lo, self.hi)
            m = float(self.cum[hi] - self.cum[lo])  # type: ignore[index]
        if self.delta:
            m += sum(d for w, d in self.delta.items() if w.startswith(prefix))
        return m

    def top(self, prefix: str, k: int) -> list[str]:
        found: list[str] = []
        if self.hi > self.lo:
            lo, hi = self._sub(prefix) if prefix else (self.lo, self.hi)
            if hi > lo:
                counts = np.diff(self.cum[lo : hi + 1])  # type: ignore[index]
                pick = np.argpartition(-counts, k)[:k] if len(counts) > k else np.arange(len(counts))
                vocab = self.index.vocab
                found = [vocab[int(self.keys[lo + j]) & _WORD_MASK] for j in pick]  # type: ignore[index]
        if self.delta:
            found = list({*found, *(w for w, d in self.delta.items() if d > 0 and w.startswith(prefix))})
            found = sorted((w for w in found if self.count(w) > 0), key=self.count, reverse=True)[:k]
        return found


class _Words:
    """The memory's words without context (a ``Base``: the index's unigram plus the changes)."""

    def __init__(self, memory: PersonalWords) -> None:
        self.memory = memory

    def probability(self, word: str) -> float:
        m = self.memory
        return m._count(word) / m.total if m.total else 0.0

    def mass(self, prefix: str) -> float:
        m = self.memory
        if not m.total:
            return 0.0
        a, b = m._index.span(prefix)
        c = int(m._index.uni_cum[b] - m._index.uni_cum[a])
        c += sum(d for w, d in m._delta_uni.items() if w.startswith(prefix))
        return c / m.total

    def top(self, prefix: str, k: int) -> list[str]:
        m = self.memory
        index = m._index
        a, b = index.span(prefix)
        if b - a <= 256:
            ids = a + np.argsort(-index.unigram[a:b], kind="stable")[:k]
        else:
            head = index.by_count[:SCAN_LIMIT]
            ids = head[(head >= a) & (head < b)][:k]
            if len(ids) < k:
                ids = a + np.argpartition(-index.unigram[a:b], k)[:k]
        found = {index.vocab[int(i)] for i in ids}
        found.update(w for w, d in m._delta_uni.items() if d > 0 and w.startswith(prefix))
        return sorted((w for w in found if m._count(w) > 0), key=m._count, reverse=True)[:k]


class PersonalWords:
    """Counts of words and of the words after every context (up to ``max_order`` words) over a multiset of
    paragraphs; see the module's docstring."""

    def __init__(self, background: bool = False, strength: float = 1.0, max_order: int = MAX_ORDER) -> None:
        self._lock = threading.RLock()
        self.background = background
        """Rebuild the index in a background thread after changes (the app's memory); else at a query."""
        self.strength = strength
        """Witten-Bell strength of every context (see :class:`Chain`)."""
        self.max_order = max_order
        self._paragraphs: Counter[str] = Counter()
        """The counted paragraphs (text -> how often)."""
        self._index = _Index(Counter(), max_order)
        self._log: list[tuple[str, int]] = []
        """Changes since the index's snapshot, in order."""
        self._delta_uni: Counter[str] = Counter()
        self._delta_ng: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        self._delta_total = 0
        self._delta_words = 0
        self._building: threading.Thread | None = None
        self._stale = False
        """A big change is not in the index or the small changes yet (a background build is on its way)."""
        self.revision = 0
        """Bumped on every change (callers cache answers per revision)."""
        self._base = _Words(self)

    # -- changes ------------------------------------------------------------------------------------------------
    @_locked
    def change(self, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        """Count the paragraphs ``added`` and stop counting those ``removed`` (each counted before)."""
        net = Counter(added)
        net.subtract(removed)  # a paragraph handed back and dropped in one batch is no change
        batch = [(t, -1) for t, k in net.items() for _ in range(-k)] + [
            (t, +1) for t, k in net.items() for _ in range(k)
        ]
        if not batch:
            return
        for text, sign in batch:
            self._paragraphs[text] += sign
            if self._paragraphs[text] <= 0:
                del self._paragraphs[text]
        size = sum(len(t) for t, _ in batch) // 6
        if size > DELTA_WORDS and self.background:
            self._stale = True  # a big batch (a first sync): the next index counts it; no keystroke waits for it
            self._start_background()
        elif size + self._delta_words > 4 * DELTA_WORDS and self._building is None:
            self._rebuild()  # a big batch (a load): numpy is faster than counting it word by word
        else:
            for text, sign in batch:
                self._log.append((text, sign))
                self._apply(text, sign)
            if self.background:
                self._start_background()
        self.revision += 1

    def _apply(self, text: str, sign: int) -> None:
        ws = WORD_RE.findall(text)
        self._delta_total += sign * len(ws)
        self._delta_words += len(ws)
        for w in ws:
            _add(self._delta_uni, w, sign)
        top = self.max_order
        for i in range(1, len(ws)):
            w = ws[i]
            for k in range(1, min(top, i) + 1):
                ctx = tuple(ws[i - k : i])
                counts = self._delta_ng[ctx]
                _add(counts, w, sign)
                if not counts:
                    del self._delta_ng[ctx]

    def _rebuild(self) -> None:
        """Build the index of every counted paragraph now (holding the lock)."""
        self._index = _Index(self._paragraphs, self.max_order)
        self._stale = False
        self._clear_delta()
        release_free(bulk=True)  # the build's temporary word lists

    def _clear_delta(self) -> None:
        self._log = []
        self._delta_uni = Counter()
        self._delta_ng = defaultdict(Counter)
        self._delta_total = self._delta_words = 0
        _gaps.cache_clear()

    def _start_background(self) -> None:
        if self._building is not None:
            return
        snapshot, cut = Counter(self._paragraphs), len(self._log)
        self._stale = False  # this build counts every paragraph changed so far
        thread = threading.Thread(target=self._build_in_background, args=(snapshot, cut), daemon=True)
        self._building = thread
        thread.start()

    def _build_in_background(self, snapshot: Counter[str], cut: int) -> None:
        index = _Index(snapshot, self.max_order)
        with self._lock:
            later = self._log[cut:]
            self._index = index
            self._clear_delta()
            for text, sign in later:
                self._log.append((text, sign))
                self._apply(text, sign)
            self._building = None
            self.revision += 1
            if self._log or self._stale:
                self._start_background()
        release_free(bulk=True)  # the build's temporary word lists

    @_locked
    def compact(self) -> None:
        """Fold the changes into the index now (waits for a background build first)."""
        while self._building is not None:
            building = self._building
            self._lock.release()
            try:
                building.join()
            finally:
                self._lock.acquire()
        if self._log or self._stale:
            self._rebuild()

    def _ready(self) -> None:
        if self._delta_words > DELTA_WORDS and self._building is None:
            self._rebuild()

    # -- counts -------------------------------------------------------------------------------------------------
    def _count(self, word: str) -> int:
        i = self._index.ids.get(word)
        return (int(self._index.unigram[i]) if i is not None else 0) + self._delta_uni.get(word, 0)

    @property
    def total(self) -> int:
        """Words counted."""
        return self._index.total + self._delta_total

    def __len__(self) -> int:
        return self.total

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._count(word) > 0

    @property
    @_locked
    def unigrams(self) -> dict[str, int]:
        """Every counted word with its count."""
        out = {w: int(c) for w, c in zip(self._index.vocab, self._index.unigram.tolist(), strict=True) if c}
        for w, d in self._delta_uni.items():
            c = out.get(w, 0) + d
            if c > 0:
                out[w] = c
            else:
                out.pop(w, None)
        return out

    @_locked
    def vocabulary(self, limit: int | None = None) -> list[tuple[str, int]]:
        """The learned words with their counts, most frequent first (then alphabetically); ``limit`` keeps the
        first ones."""
        ranked = sorted(self.unigrams.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked if limit is None else ranked[:limit]

    @_locked
    def paragraphs(self) -> Counter[str]:
        """The counted paragraphs (text -> how often)."""
        return Counter(self._paragraphs)

    # -- queries ------------------------------------------------------------------------------------------------
    def reading(self) -> threading.RLock:
        """The lock to hold while a :meth:`chain` is read (a change in another thread waits for it)."""
        return self._lock

    @_locked
    def chain(self, context: Sequence[str]) -> Chain:
        """The smoothed distribution after ``context`` (the words before in the paragraph, oldest first)."""
        self._ready()
        index = self._index
        levels: list[Level] = []
        ids: list[int] = []
        known = True
        depth = 0
        for k in range(1, min(self.max_order, len(context)) + 1):
            word = context[len(context) - k]
            i = index.ids.get(word) if known else None
            known = i is not None
            if known:
                ids.insert(0, i)  # type: ignore[arg-type]
            delta = self._delta_ng.get(tuple(context[len(context) - k :])) if self._delta_ng else None
            level = _Context(index, k, _key(ids) if known else None, delta)
            if level.total <= 0:
                break
            levels.append(level)
            depth = k
        return Chain(self._base, evidence(levels), self.strength, depth)

    @_locked
    def probability(self, word: str, context: Sequence[str] | str | None) -> float:
        """``P(word | context)`` (``context``: the words before in the paragraph, or one previous word)."""
        if not self.total:
            return 0.0
        if context is None:
            return self._base.probability(word)
        return self.chain([context] if isinstance(context, str) else context).probability(word)

    @_locked
    def answer(self, context: Sequence[str] | str | None, prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest words starting with ``prefix`` after ``context``, with the prefix's mass."""
        if not self.total:
            return NO_ANSWER
        words = [] if context is None else [context] if isinstance(context, str) else context
        return self.chain(words).answer(prefix, sentence_start, k)

    @_locked
    def gap(self, word: str, following: str) -> str | None:
        """What the paragraphs hold between ``word`` and ``following`` (None: never seen together)."""
        return _gaps(self, self.revision, word, following)


PARAGRAPH_BREAK = "\n_\n"
"""Between paragraphs in :func:`_joined` (a word character, so no gap runs from one paragraph into the next)."""


@lru_cache(maxsize=1)
def _joined(memory: PersonalWords, revision: int) -> str:
    """The paragraphs as one text, built once per revision (one scan in C instead of one per paragraph)."""
    return PARAGRAPH_BREAK.join(memory._paragraphs)


@lru_cache(maxsize=256)
def _gaps(memory: PersonalWords, revision: int, word: str, following: str) -> str | None:
    text = _joined(memory, revision)
    pattern = re.compile(rf"(?<![\w'’]){re.escape(word)}(\W+?){re.escape(following)}(?![\w'’])")
    probe = re.compile(rf"{re.escape(word)}\W+?{re.escape(following)}(?![\w'’])")  # a literal start: fast
    pos = 0
    while (m := probe.search(text, pos)) is not None:
        found = pattern.match(text, m.start())  # the look-behind sees the text before the match
        if found:
            return found.group(1)
        pos = m.start() + 1
    return None


def _add(counts: Counter[str], key: str, sign: int) -> None:
    c = counts.get(key, 0) + sign
    if c:
        counts[key] = c
    else:
        del counts[key]
