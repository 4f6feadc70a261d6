"""The Markov-chain baseline done properly: an interpolated modified Kneser-Ney word n-gram (Chen & Goodman).

Counts are vectorised with numpy: word ids (at most 65,536, assigned in sorted spelling order so that the words
with a given prefix form one id range) are packed 16 bits each into uint64 keys, and every table is a sorted key
array searched with ``searchsorted``. It answers ``words(text_before_cursor, n)`` like the GRU predictor, so
``eval`` measures both the same way.

Its bits per character are not comparable with the GRU's: it predicts words only (no punctuation, spacing or
spelling of unseen words), so ``eval`` reports none for it.

Pruned by counts (:meth:`KneserNeyModel.prune`) it is small enough to ship beside the base model as one more
source of the adaptive mixing (:mod:`assistant.engine.ngramsource`); :meth:`KneserNeyModel.save_folder` writes
plain ``.npy`` arrays that :meth:`KneserNeyModel.load_folder` maps into memory instead of reading.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.atomic import atomic_open, atomic_write_text, private_dir
from assistant.text.words import WORD_RE, partial_word

BITS = 16
MASK = (1 << BITS) - 1
_B = np.uint64(BITS)
_M = np.uint64(MASK)
UNK, BOS = 0, 1
"""Reserved word ids: unknown word and paragraph start."""


@dataclass(frozen=True)
class NgramCandidate:
    """A predicted word (same shape as the GRU's candidates)."""

    word: str
    probability: float


@dataclass
class _Order:
    keys: np.ndarray
    """Sorted packed n-gram keys."""
    counts: np.ndarray
    """Raw counts (highest order) or continuation counts (lower orders)."""
    ctx_keys: np.ndarray
    """Sorted packed context keys."""
    ctx_total: np.ndarray
    ctx_gamma_mass: np.ndarray
    """D1*N1 + D2*N2 + D3*N3+ of each context (the mass given to the lower order)."""
    discounts: np.ndarray
    """D1, D2, D3+ of this order."""


_ORDER_FIELDS = ("keys", "counts", "ctx_keys", "ctx_total", "ctx_gamma_mass", "discounts")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pack_context(ids: Sequence[int]) -> np.uint64:
    """Pack word ids into one key, 16 bits each."""
    key = 0
    for w in ids:
        key = (key << BITS) | int(w)
    return np.uint64(key)


@dataclass(frozen=True)
class _Followers:
    """One order's n-grams after one context: follower ids (sorted), their counts, the context's total count and
    back-off mass, the order's discounts."""

    ids: np.ndarray
    counts: np.ndarray
    total: float
    gamma: float
    discounts: np.ndarray


def _discounts(counts: np.ndarray) -> np.ndarray:
    """Modified Kneser-Ney discounts from counts of counts."""
    n = [max(1, int((counts == k).sum())) for k in (1, 2, 3, 4)]
    y = n[0] / (n[0] + 2 * n[1])
    d = np.array([1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]], dtype=np.float64)
    return np.clip(d, 0.05, None)


def _order_table(keys: np.ndarray, counts: np.ndarray) -> _Order:
    d = _discounts(counts)
    ctx = keys >> _B
    ctx_keys, start = np.unique(ctx, return_index=True)
    ctx_total = np.add.reduceat(counts, start).astype(np.float64)
    disc = np.where(counts == 1, d[0], np.where(counts == 2, d[1], d[2]))
    gamma = np.add.reduceat(disc, start)
    return _Order(keys, counts, ctx_keys, ctx_total, gamma, d)


class KneserNeyModel:
    """Interpolated modified Kneser-Ney word n-gram with prefix-constrained top-n prediction."""

    def __init__(self, vocab: list[str], orders: list[_Order], unigram: np.ndarray) -> None:
        self.vocab = vocab
        """Words by id (ids 0 and 1 are ``<unk>`` and ``<s>``; the rest sorted by spelling)."""
        self.orders = orders
        """Tables for n-gram orders 2..N (index 0 is bigrams)."""
        self.unigram = unigram
        """Interpolated unigram probability of each id."""
        self.order = len(orders) + 1
        self._sorted_words = vocab[2:]
        self._index = {w: i for i, w in enumerate(vocab)}
        self._top_by_prefix: dict[str, np.ndarray] = {}

    # -- training ---------------------------------------------------------------------------------------------
    @classmethod
    def train(
        cls, paragraphs: Iterable[str], order: int = 4, max_vocab: int = 65_000, min_count: int = 2
    ) -> KneserNeyModel:
        """Count n-grams of ``order`` (2 to 4) over the words of ``paragraphs``."""
        if not 2 <= order <= 4:
            raise ValueError("order must be 2 to 4 (16-bit ids packed into 64-bit keys)")
        paras = [WORD_RE.findall(p) for p in paragraphs]
        freq = Counter(w for p in paras for w in p)
        kept = sorted(w for w, _ in freq.most_common(max_vocab) if freq[w] >= min_count)
        vocab = ["<unk>", "<s>", *kept]
        index = {w: i for i, w in enumerate(vocab)}
        stream: list[int] = []
        for p in paras:
            stream.extend([BOS] * (order - 1))
            stream.extend(index.get(w, UNK) for w in p)
        ids = np.asarray(stream, dtype=np.uint64)
        # Highest order: raw counts of every n-gram ending in a real word.
        grams = cls._pack(ids, order)
        grams = grams[(grams & _M) > np.uint64(BOS)]
        keys, counts = np.unique(grams, return_counts=True)
        tables = [_order_table(keys, counts)]
        # Lower orders: continuation counts = distinct words seen before the (k)-gram.
        for k in range(order - 1, 0, -1):
            suffix = keys & np.uint64((1 << (BITS * k)) - 1)
            keys, counts = np.unique(suffix, return_counts=True)
            if k > 1:
                tables.append(_order_table(keys, counts))
        # keys/counts now hold unigram continuation counts.
        v = len(vocab)
        cont = np.zeros(v, dtype=np.float64)
        cont[keys] = counts
        d = _discounts(counts)[0]
        total = cont.sum()
        seen = (cont > 0).sum()
        unigram = np.maximum(cont - d, 0) / total + (d * seen / total) / v
        unigram[[UNK, BOS]] = 0.0
        tables.reverse()  # bigrams first
        return cls(vocab, tables, unigram)

    @staticmethod
    def _pack(ids: np.ndarray, k: int) -> np.ndarray:
        n = len(ids) - k + 1
        key = np.zeros(max(n, 0), dtype=np.uint64)
        for j in range(k):
            key = (key << _B) | ids[j : j + n]
        return key

    # -- persistence ------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the model as an ``.npz`` of plain arrays (no pickle)."""
        arrays: dict[str, np.ndarray] = {
            "vocab": np.array("\n".join(self.vocab).encode("utf-8")),
            "unigram": self.unigram,
        }
        for i, t in enumerate(self.orders):
            for name in ("keys", "counts", "ctx_keys", "ctx_total", "ctx_gamma_mass", "discounts"):
                arrays[f"o{i}_{name}"] = getattr(t, name)
        with atomic_open(path, mode=0o600) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> KneserNeyModel:
        """Read a model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            vocab = bytes(z["vocab"]).decode("utf-8").split("\n")
            n = sum(1 for k in z.files if k.endswith("_keys") and not k.endswith("ctx_keys"))
            orders = [
                _Order(
                    *(
                        z[f"o{i}_{name}"]
                        for name in ("keys", "counts", "ctx_keys", "ctx_total", "ctx_gamma_mass", "discounts")
                    )
                )
                for i in range(n)
            ]
            return cls(vocab, orders, z["unigram"])

    def prune(self, min_counts: Sequence[int]) -> KneserNeyModel:
        """Count pruning: drop the n-grams of order ``k + 2`` whose count (raw for the highest order,
        continuation count below it) is under ``min_counts[k]``.

        A dropped n-gram's discounted mass moves to its context's back-off weight, so every distribution still
        sums to one and the word falls back to the lower order; a context left with no n-gram is dropped (the
        lower order then stands, as for an unseen context). Tables are narrowed to 32-bit counts and floats."""
        if len(min_counts) != len(self.orders):
            raise ValueError(f"one minimum count per order 2..{self.order}, got {len(min_counts)}")
        orders = []
        for t, least in zip(self.orders, min_counts, strict=True):
            c = t.counts.astype(np.float64)
            d = np.where(c == 1, t.discounts[0], np.where(c == 2, t.discounts[1], t.discounts[2]))
            keep = t.counts >= least
            ctx_of = np.searchsorted(t.ctx_keys, t.keys >> _B)
            moved = np.bincount(ctx_of[~keep], weights=np.maximum(c - d, 0)[~keep], minlength=len(t.ctx_keys))
            keys = t.keys[keep]
            live = np.unique(keys >> _B)
            ci = np.searchsorted(t.ctx_keys, live)
            gamma = (t.ctx_gamma_mass + moved)[ci]
            orders.append(
                _Order(
                    keys,
                    t.counts[keep].astype(np.uint32),
                    live,
                    t.ctx_total[ci].astype(np.float32),
                    gamma.astype(np.float32),
                    t.discounts,
                )
            )
        return KneserNeyModel(self.vocab, orders, self.unigram.astype(np.float32))

    def save_folder(self, folder: str | Path, info: dict[str, object] | None = None) -> None:
        """Write the model as a folder of plain ``.npy`` arrays, ``vocab.txt`` and ``ngram.json`` (its shape,
        ``info`` and every file's SHA-256), for :meth:`load_folder` to map."""
        folder = Path(folder)
        private_dir(folder)
        arrays: dict[str, np.ndarray] = {"unigram": self.unigram}
        for i, t in enumerate(self.orders):
            for name in _ORDER_FIELDS:
                arrays[f"o{i}_{name}"] = getattr(t, name)
        hashes = {}
        for name, array in arrays.items():
            with atomic_open(folder / f"{name}.npy", mode=0o644) as f:
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)
            hashes[f"{name}.npy"] = _sha256(folder / f"{name}.npy")
        atomic_write_text(folder / "vocab.txt", "\n".join(self.vocab) + "\n", mode=0o644)
        hashes["vocab.txt"] = _sha256(folder / "vocab.txt")
        meta = {"format": "assistant-kn-ngram", "format_version": 1, "order": self.order, **(info or {})}
        meta["files"] = hashes
        atomic_write_text(folder / "ngram.json", json.dumps(meta, indent=1) + "\n", mode=0o644)

    @classmethod
    def load_folder(cls, folder: str | Path) -> KneserNeyModel:
        """Map a folder written by :meth:`save_folder` (arrays read from disk as they are used; no pickle)."""
        folder = Path(folder)
        meta = json.loads((folder / "ngram.json").read_text(encoding="utf-8"))
        if meta.get("format") != "assistant-kn-ngram" or meta.get("format_version") != 1:
            raise ValueError(f"{folder}: not an n-gram folder of a known format")
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]

        def array(name: str) -> np.ndarray:
            return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)

        orders = [_Order(*(array(f"o{i}_{name}") for name in _ORDER_FIELDS)) for i in range(int(meta["order"]) - 1)]
        return cls(vocab, orders, array("unigram"))

    # -- prediction -------------------------------------------------------------------------------------------
    def _prefix_range(self, prefix: str) -> tuple[int, int]:
        """Id range ``[lo, hi)`` of the words that start with ``prefix``."""
        lo = bisect.bisect_left(self._sorted_words, prefix)
        hi = bisect.bisect_left(self._sorted_words, prefix + "\U0010ffff")
        return lo + 2, hi + 2

    def _context_ids(self, words: Sequence[str]) -> list[int]:
        index = self._index
        ctx = [BOS] * (self.order - 1) + [index.get(w, UNK) for w in words]
        return ctx[-(self.order - 1) :]

    def view(self, context: Sequence[int]) -> list[_Followers]:
        """What every order knows after ``context`` (the last N-1 ids), lowest order first; orders that never
        saw their part of the context are left out (the lower order stands there). Costs a few binary searches;
        :meth:`prob` and :meth:`candidates_in` then touch only these slices (a caller that keeps a view while the
        context stays the same pays them once per word)."""
        out = []
        for k in range(1, self.order):  # context length k -> table of (k+1)-grams
            table = self.orders[k - 1]
            ctx = _pack_context(context[-k:])
            ci = int(np.searchsorted(table.ctx_keys, ctx))
            if ci >= len(table.ctx_keys) or table.ctx_keys[ci] != ctx:
                continue
            a = int(np.searchsorted(table.keys, ctx << _B))
            b = int(np.searchsorted(table.keys, (ctx << _B) | _M, side="right"))
            ids = (np.asarray(table.keys[a:b]) & _M).astype(np.int64)
            counts = np.asarray(table.counts[a:b])
            out.append(
                _Followers(ids, counts, float(table.ctx_total[ci]), float(table.ctx_gamma_mass[ci]), table.discounts)
            )
        return out

    def prob(self, context: Sequence[int], candidates: np.ndarray) -> np.ndarray:
        """Interpolated P(w | context) for an array of word ids (``context`` = the last N-1 ids)."""
        return self.prob_in(self.view(context), candidates)

    def prob_in(self, view: list[_Followers], candidates: np.ndarray) -> np.ndarray:
        """:meth:`prob` from a context's :meth:`view`."""
        p = self.unigram[candidates].astype(np.float64)
        for f in view:
            if not len(f.ids):
                p = (f.gamma / f.total) * p
                continue
            pos = np.clip(np.searchsorted(f.ids, candidates), 0, len(f.ids) - 1)
            c = np.where(f.ids[pos] == candidates, f.counts[pos], 0).astype(np.float64)
            d = np.where(c == 1, f.discounts[0], np.where(c == 2, f.discounts[1], f.discounts[2]))
            p = np.maximum(c - d * (c > 0), 0) / f.total + (f.gamma / f.total) * p
        return p

    def _candidates(self, context: Sequence[int], lo: int, hi: int, per_source: int = 40) -> np.ndarray:
        return self.candidates_in(self.view(context), lo, hi, per_source)

    def candidates_in(self, view: list[_Followers], lo: int, hi: int, per_source: int = 40) -> np.ndarray:
        """Ids in ``[lo, hi)`` worth scoring after a context: the ``per_source`` most frequent followers of each
        order, and the most probable words overall."""
        pools = []
        for f in view:
            a, b = np.searchsorted(f.ids, [lo, hi])
            if b > a:
                counts = f.counts[a:b]
                m = min(per_source, b - a)
                top = np.argpartition(-counts, m - 1)[:m] if m < b - a else np.arange(b - a)
                pools.append(f.ids[a:b][top])
        if hi > lo:
            pools.append(self._unigram_top(lo, hi, per_source))
        return np.unique(np.concatenate(pools)) if pools else np.zeros(0, dtype=np.int64)

    def _unigram_top(self, lo: int, hi: int, m: int) -> np.ndarray:
        """The ``m`` most probable ids in ``[lo, hi)`` (memoised: short prefixes span large ranges)."""
        key = f"{lo}:{hi}:{m}"
        top = self._top_by_prefix.get(key)
        if top is None:
            probs = self.unigram[lo:hi]
            m = min(m, hi - lo)
            top = (np.argpartition(-probs, m - 1)[:m] if m < hi - lo else np.arange(hi - lo)) + lo
            if len(self._top_by_prefix) < 100_000:
                self._top_by_prefix[key] = top
        return top

    def words(self, text_before_cursor: str, n: int = 5) -> list[NgramCandidate]:
        """Top ``n`` words: completions of the partial word at the cursor, or next words after a separator."""
        before, prefix = partial_word(text_before_cursor)
        paragraph = before[before.rfind("\n\n") + 2 :] if "\n\n" in before else before
        context = self._context_ids(WORD_RE.findall(paragraph))
        lo, hi = self._prefix_range(prefix)
        cands = self._candidates(context, lo, hi)
        if not len(cands):
            return []
        p = self.prob(context, cands)
        mass = float(p.sum())  # normalised over the candidates found (the rest hold little mass)
        order = np.argsort(-p, kind="stable")[:n]
        return [NgramCandidate(self.vocab[int(cands[i])], float(p[i] / mass)) for i in order]
