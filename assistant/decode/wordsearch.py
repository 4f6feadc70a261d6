"""Whole-word predictions over subword pieces, constrained by the characters typed after the context.

The model has read the context up to the end of the last complete word. What was typed after it (the *tail*:
separators and the partial word, e.g. ``" rep"``) may end inside a piece, so the search walks piece sequences
whose text agrees with the tail ("token healing"), then lets the word run on through word-only pieces until a
piece breaks it. A word's probability is the mass of every path found that spells it, divided by the mass of
all paths that agree with the tail: ``P(word | context, tail)``.
"""

from __future__ import annotations

import heapq
import math
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from assistant.decode.pieces import PieceTable
from assistant.lm.model import GRULanguageModel
from assistant.text.tokenizer import Tokenizer
from assistant.text.words import continues_word, partial_word, word_head

MEMO_LIMIT = 512
"""Search states kept for reuse while the context stays the same (about 34 KB each)."""

COVER_LIMIT = 4096
"""Memoised tail covers (tails repeat while typing a word)."""

BYTE_CHAR_MIN = 0.01
"""A two-byte character the tokenizer spells in byte pieces (an accented letter, Greek, Cyrillic without pieces)
is tried as the next letter of a word when its lead byte is at least this likely (English text: never)."""


@dataclass(frozen=True)
class Cover:
    """Pieces whose text starts with a given string (the rest of a typed tail), sorted by what follows it."""

    all_ids: torch.Tensor
    """Every piece that starts with the string."""
    cont_ids: torch.Tensor
    """Pieces equal to the string or continuing the word after it."""
    end_ids: torch.Tensor
    """Pieces in which the word ends after the string."""
    end_heads: tuple[str, ...]
    """For each of :attr:`end_ids`, the word characters it adds before the word ends."""


class PieceIndex:
    """Tables from piece text to ids, built once per tokenizer, so the tail constraint costs microseconds."""

    _built: ClassVar[weakref.WeakKeyDictionary[Tokenizer, PieceIndex]] = weakref.WeakKeyDictionary()
    _building: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def of(cls, tokenizer: Tokenizer) -> PieceIndex:
        """The index of ``tokenizer``, built on first use and shared by every search over it (a chat bot's
        hundreds of predictors over one model pay for it once, not each)."""
        with cls._building:
            index = cls._built.get(tokenizer)
            if index is None:
                index = cls._built[tokenizer] = cls(tokenizer)
            return index

    def __init__(self, tokenizer: Tokenizer) -> None:
        table = PieceTable.build(tokenizer)
        self.texts = list(table.text)
        self.by_prefix: dict[str, list[int]] = defaultdict(list)
        """Every prefix of every piece text -> ids of the pieces that start with it."""
        self.by_text: dict[str, int] = {}
        """Exact piece text -> id."""
        for i, t in enumerate(self.texts):
            if table.usable[i]:
                self.by_text[t] = i
                for k in range(1, len(t) + 1):
                    self.by_prefix[t[:k]].append(i)
        extends = table.continues & table.usable
        breaks = table.breaks & table.usable
        mixed = table.usable & ~table.continues & ~table.breaks
        self.extends = extends
        """Pieces made only of word characters: the word goes on."""
        self.mixed_ids = torch.nonzero(mixed).flatten()
        """Pieces that finish a word inside them (``"s,"``)."""
        self.mixed_words = [table.heads[int(i)] for i in self.mixed_ids]
        """Word characters added by each of :attr:`mixed_ids`, in the same order."""
        self.extend_bias = torch.where(extends, 0.0, -math.inf)
        """0 for word-continuing pieces, -inf elsewhere: added to log-probabilities to mask the rest."""
        self.break_mask = breaks.float()
        """1 for pieces starting with a non-word character (the word before them is complete), else 0."""
        self._covers: dict[str, Cover] = {}
        self._tokenizer = tokenizer
        self._byte_ids: dict[str, list[int] | None] = {}
        value = {i: tokenizer.piece_bytes(i)[0] for i in range(len(tokenizer)) if tokenizer.is_byte(i)}
        self.byte_value = value
        """Byte piece id -> the byte it stands for."""
        self.lead_ids = torch.tensor([i for i, v in value.items() if 0xC2 <= v <= 0xDF], dtype=torch.long)
        """Byte pieces that start a two-byte UTF-8 character."""
        self.tail_byte_ids = torch.tensor([i for i, v in value.items() if 0x80 <= v <= 0xBF], dtype=torch.long)
        """Byte pieces that continue a UTF-8 character."""

    def byte_ids(self, ch: str) -> list[int] | None:
        """The byte pieces that spell ``ch`` when the tokenizer has no piece for it; None when it has one."""
        if ch not in self._byte_ids:
            ids = self._tokenizer.encode(ch)
            spelled = bool(ids) and all(self._tokenizer.is_byte(i) for i in ids)
            self._byte_ids[ch] = ids if spelled and len(ids) > 1 else None
        return self._byte_ids[ch]

    def cover(self, rest: str) -> Cover:
        """The pieces that start with ``rest``, classified; memoised (tails repeat while typing)."""
        found = self._covers.get(rest)
        if found is not None:
            return found
        cont: list[int] = []
        ends: list[int] = []
        heads: list[str] = []
        for pid in self.by_prefix.get(rest, ()):
            beyond = self.texts[pid][len(rest) :]
            if not beyond or continues_word(beyond):
                cont.append(pid)
            else:
                ends.append(pid)
                heads.append(word_head(beyond))
        found = Cover(
            torch.tensor(self.by_prefix.get(rest, []), dtype=torch.long),
            torch.tensor(cont, dtype=torch.long),
            torch.tensor(ends, dtype=torch.long),
            tuple(heads),
        )
        if len(self._covers) > COVER_LIMIT:
            self._covers.clear()
        self._covers[rest] = found
        return found


def _top(lp: torch.Tensor, ids: torch.Tensor, k: int) -> list[tuple[int, float]]:
    """The ``k`` most likely of ``ids`` under ``lp`` as ``(id, logprob)``."""
    if not ids.numel():
        return []
    top = torch.topk(lp[ids], min(k, ids.numel()))
    return list(zip(ids[top.indices].tolist(), top.values.tolist(), strict=True))


def _top_positions(lp: torch.Tensor, ids: torch.Tensor, k: int) -> list[tuple[int, float]]:
    """Positions in ``ids`` of its ``k`` most likely pieces, with their log-probabilities."""
    if not ids.numel():
        return []
    top = torch.topk(lp[ids], min(k, ids.numel()))
    return list(zip(top.indices.tolist(), top.values.tolist(), strict=True))


@dataclass(frozen=True)
class WordCandidate:
    """A predicted word and its probability given the context and what was typed."""

    word: str
    """The whole word, the typed prefix included."""
    probability: float


@dataclass
class _Node:
    text: str
    """Text spelled after the context by this path."""
    logp: float
    """Log-probability of the path."""
    logprobs: torch.Tensor
    """Next-piece log-probabilities after the path ``(V,)``."""
    hidden: torch.Tensor
    """GRU state after the path ``(L, 1, H)``."""
    path: tuple[int, ...] = ()
    """Piece ids after the context."""


@dataclass(frozen=True)
class SearchLimits:
    """Bounds on the word search (each level is one batched GRU step)."""

    beam: int = 6
    """Paths expanded per level."""
    max_levels: int = 4
    """Pieces after the tail is covered (longest word in pieces)."""
    branch: int = 6
    """Word-continuing pieces tried per path."""
    margin: float = 7.0
    """Paths that spell part of the tail are dropped once they are this many nats (7: about 1/1000) less likely
    than the best path that spells all of it: their words could add at most that share each."""


class WordSearch:
    """Finds the most probable whole words that agree with a typed tail, over subword pieces."""

    def __init__(self, model: GRULanguageModel, tokenizer: Tokenizer, limits: SearchLimits | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.index = PieceIndex.of(tokenizer)
        self.limits = limits or SearchLimits()
        self._memo: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]] = {}
        self._memo_root: torch.Tensor | None = None
        self.prefix_share = 1.0
        """After :meth:`candidates`: ``P(partial word | context, separators typed)``, the share of the mass after
        the tail's separators that agrees with the partial word (1 after a separator); for mixing with memories."""
        self.rows_stepped = 0
        """Paths advanced by one piece through the model since creation (a measure of the work done)."""
        self.adjust: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
        """Applied to every step's log-probabilities ``(K, V)`` with the GRU outputs ``(K, H)`` they came from
        (the predictor's neural cache); the root's come adjusted from the caller."""

    def forget_paths(self) -> None:
        """Drop the memoised paths (the network's output layer changed)."""
        self._memo.clear()
        self._memo_root = None

    def candidates(
        self, logprobs: torch.Tensor, hidden: torch.Tensor, tail: str, n: int = 5, extra: int = 0
    ) -> list[WordCandidate]:
        """Top ``n`` words after a context whose state is ``(logprobs (V,), hidden)`` and typed ``tail``.

        The search is pruned for ``n`` answers; up to ``extra`` more of the words it found are returned too
        (for a caller that filters some out).
        """
        _, prefix = partial_word(tail)
        mass: dict[str, float] = defaultdict(float)
        tail_mass = 0.0
        covered: list[_Node] = []  # with an empty tail: the root, which has spelled it already
        spelled: list[tuple[float, str, int, _Node]] = []  # steps that complete the tail
        if hidden is not self._memo_root:  # another context: states of old paths no longer apply
            self._memo.clear()
            self._memo_root = hidden
        root = _Node("", 0.0, logprobs, hidden)
        pending: list[tuple[_Node, str]] = [(root, prefix)] if tail else []
        if not tail:
            covered.append(root)
            tail_mass = 1.0
        idx = self.index
        # Phase 1: spell the tail. Few paths agree with it, so all of them are followed (capped by beam).
        for _ in range(len(tail) + 1):
            grow: list[tuple[float, str, int, _Node]] = []
            for node, _w in pending:
                rest = tail[len(node.text) :]
                lp = node.logprobs
                cover = idx.cover(rest)  # pieces that spell the rest of the tail and maybe more
                if cover.all_ids.numel():
                    tail_mass += math.exp(node.logp + float(torch.logsumexp(lp[cover.all_ids], 0)))
                for pid, p in _top(lp, cover.cont_ids, self.limits.beam * 2):
                    grow.append((node.logp + p, idx.texts[pid], pid, node))
                for j, p in _top_positions(lp, cover.end_ids, 16):
                    word = prefix + cover.end_heads[j]
                    if word:
                        mass[word] += math.exp(node.logp + p)
                for k in range(1, len(rest)):  # pieces that spell part of the rest
                    pid = idx.by_text.get(rest[:k], -1)
                    if pid >= 0:
                        grow.append((node.logp + float(lp[pid]), rest[:k], pid, node))
                spelled_in_bytes = self._byte_char(node, rest[0]) if rest[0] not in idx.by_prefix else None
                if spelled_in_bytes is not None:  # a typed character with no piece: its bytes are one step
                    mid, last = spelled_in_bytes
                    logp = mid.logp + float(mid.logprobs[last])
                    grow.append((logp, rest[0], last, mid))
                    if len(rest) == 1:
                        tail_mass += math.exp(logp)
            if not grow:
                break
            # Paths that have spelled the whole tail wait for one batched step at the end of this phase.
            spelled.extend(g for g in grow if len(g[3].text) + len(g[1]) >= len(tail))
            bound = max((g[0] for g in spelled), default=-math.inf) - self.limits.margin
            partial = [g for g in grow if len(g[3].text) + len(g[1]) < len(tail) and g[0] > bound]
            partial = heapq.nlargest(self.limits.beam, partial, key=lambda g: g[0])
            if not partial:
                break
            children = self._advance([(node, pid) for _, _, pid, node in partial])
            pending = [
                (_Node(node.text + piece_text, logp, lp, h, (*node.path, pid)), prefix)
                for (logp, piece_text, pid, node), (lp, h) in zip(partial, children, strict=True)
            ]
        # Phase 2: from paths that spelled the tail, run the word on until a piece breaks it.
        if tail:
            best_spelled = heapq.nlargest(self.limits.beam, spelled, key=lambda g: g[0])
            children = self._advance([(node, pid) for _, _, pid, node in best_spelled])
            frontier = [
                _Node(node.text + piece_text, logp, lp, h, (*node.path, pid))
                for (logp, piece_text, pid, node), (lp, h) in zip(best_spelled, children, strict=True)
            ]
        else:
            frontier = covered
        for _ in range(self.limits.max_levels):
            if not frontier:
                break
            grow = self._level(frontier, prefix, len(tail), mass)
            if not grow:
                break
            best = sorted(mass.values(), reverse=True)
            floor = best[n - 1] if len(best) >= n else 0.0
            grow = [g for g in heapq.nlargest(self.limits.beam, grow, key=lambda g: g[0]) if math.exp(g[0]) > floor]
            if not grow:
                break
            children = self._advance([(node, pid) for _, _, pid, node in grow])
            frontier = [
                _Node(node.text + piece_text, logp, lp, h, (*node.path, pid))
                for (logp, piece_text, pid, node), (lp, h) in zip(grow, children, strict=True)
            ]
        self.prefix_share = self._prefix_share(logprobs, tail, prefix, tail_mass)
        if tail_mass <= 0:
            return []
        ranked = sorted(mass.items(), key=lambda kv: kv[1], reverse=True)[: n + extra]
        return [WordCandidate(w, min(1.0, m / tail_mass)) for w, m in ranked]

    def _prefix_share(self, logprobs: torch.Tensor, tail: str, prefix: str, tail_mass: float) -> float:
        """``P(tail) / P(separators of the tail)``, the separators' mass taken one piece deep (pieces that start
        with them, plus pieces that spell a part of them)."""
        sep = tail[: len(tail) - len(prefix)]
        if not prefix or not sep:
            return 1.0 if not prefix else min(1.0, tail_mass)
        idx = self.index
        ids = idx.cover(sep).all_ids
        sep_mass = float(torch.exp(torch.logsumexp(logprobs[ids], 0))) if ids.numel() else 0.0
        for k in range(1, len(sep)):
            pid = idx.by_text.get(sep[:k], -1)
            if pid >= 0:
                sep_mass += math.exp(float(logprobs[pid]))
        return min(1.0, tail_mass / sep_mass) if sep_mass > 0 else 0.0

    def _byte_char(self, node: _Node, ch: str) -> tuple[_Node, int] | None:
        """For a character spelled in byte pieces: the path from ``node`` through all its bytes but the last, and
        the last byte's id (so the character is one step of the search, like a piece)."""
        ids = self.index.byte_ids(ch)
        if ids is None:
            return None
        for b in ids[:-1]:
            ((lp, h),) = self._advance([(node, b)])
            node = _Node(node.text, node.logp + float(node.logprobs[b]), lp, h, (*node.path, b))
        return node, ids[-1]

    def _byte_extensions(self, frontier: list[_Node], lp: torch.Tensor) -> list[tuple[float, str, int, _Node]]:
        """Word letters spelled in two byte pieces, as extensions of the paths of a level (one batched step for
        the lead bytes that are likely at all)."""
        idx = self.index
        if not idx.lead_ids.numel() or not idx.tail_byte_ids.numel():
            return []
        top = torch.topk(lp[:, idx.lead_ids], min(2, idx.lead_ids.numel()), dim=1)
        floor = math.log(BYTE_CHAR_MIN)
        items = [
            (node, int(idx.lead_ids[j]), node.logp + p)
            for node, ps, js in zip(frontier, top.values.tolist(), top.indices.tolist(), strict=True)
            for p, j in zip(ps, js, strict=True)
            if p >= floor
        ]
        if not items:
            return []
        grow: list[tuple[float, str, int, _Node]] = []
        children = self._advance([(node, lead) for node, lead, _ in items])
        for (node, lead, logp), (lp_mid, h) in zip(items, children, strict=True):
            mid = _Node(node.text, logp, lp_mid, h, (*node.path, lead))
            for pid, p in _top(lp_mid, idx.tail_byte_ids, 3):
                ch = bytes([idx.byte_value[lead], idx.byte_value[pid]]).decode("utf-8", errors="replace")
                if continues_word(ch):
                    grow.append((logp + p, ch, pid, mid))
        return grow

    def state_after(self, hidden: torch.Tensor, path: list[int]) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Next-piece log-probabilities ``(V,)`` and state ``(L, 1, H)`` after feeding ``path`` from the context
        state ``hidden``, if a search since that context computed them; else None."""
        if hidden is not self._memo_root:
            return None
        return self._memo.get(tuple(path))

    def _level(
        self, frontier: list[_Node], prefix: str, tail_len: int, mass: dict[str, float]
    ) -> list[tuple[float, str, int, _Node]]:
        """For every path of a level at once: add the mass of its word ending here (pieces that break the
        word, and pieces that end it inside themselves), and return the word-continuing extensions."""
        idx = self.index
        lp = torch.stack([node.logprobs for node in frontier])  # (K, V)
        ends = torch.log(lp.exp() @ idx.break_mask).tolist()  # (K,): one matrix-vector product, no gather
        k_mixed = min(4, idx.mixed_ids.numel())
        mixed = torch.topk(lp[:, idx.mixed_ids], k_mixed, dim=1) if k_mixed else None
        ext = torch.topk(lp + idx.extend_bias, self.limits.branch, dim=1)
        ext_p, ext_i = ext.values.tolist(), ext.indices.tolist()
        mixed_p = mixed.values.tolist() if mixed is not None else []
        mixed_j = mixed.indices.tolist() if mixed is not None else []
        grow: list[tuple[float, str, int, _Node]] = []
        for k, node in enumerate(frontier):
            word = prefix + node.text[tail_len:]
            head = word_head(word)
            if head:
                mass[head] += math.exp(node.logp + ends[k])
                for p, j in zip(
                    mixed_p[k] if mixed is not None else [], mixed_j[k] if mixed is not None else [], strict=True
                ):
                    mass[word + idx.mixed_words[j]] += math.exp(node.logp + p)
            for p, pid in zip(ext_p[k], ext_i[k], strict=True):
                if p > -math.inf:
                    grow.append((node.logp + p, idx.texts[pid], pid, node))
        grow.extend(self._byte_extensions(frontier, lp))
        return grow

    def _advance(self, items: list[tuple[_Node, int]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One batched GRU step: feed piece ``pid`` to each node's state (paths seen since the context last
        changed come from the memo: typing the next letter of a word reuses most of the previous search)."""
        keys = [(*node.path, pid) for node, pid in items]
        found = {k: self._memo[k] for k in keys if k in self._memo}
        todo = [i for i, k in enumerate(keys) if k not in found]
        if todo:
            hidden = torch.cat([items[i][0].hidden for i in todo], dim=1)  # (L, K, H)
            ids = torch.tensor([items[i][1] for i in todo], dtype=torch.long, device=hidden.device)
            lp, h = self.model.step(ids, hidden)  # (K, V), (L, K, H)
            if self.adjust is not None:
                lp = self.adjust(lp, h[-1])
            self.rows_stepped += len(todo)
            if len(self._memo) > MEMO_LIMIT:
                self._memo.clear()
            for j, i in enumerate(todo):
                # Copies, so a kept row does not keep its whole batch tensor alive.
                found[keys[i]] = self._memo[keys[i]] = (lp[j].clone(), h[:, j : j + 1].clone())
        return [found[k] for k in keys]
