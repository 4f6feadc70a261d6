"""Incremental GRU state along a text, with checkpoints at word ends.

The context before the word being typed is cut into segments that each end at a word end (or at the end of the
context), and each segment is encoded on its own, so the pieces of a context never depend on what follows it: a
keystroke at the end costs only the new segment, and an edit anywhere resumes from the last checkpoint before
the first changed character. Checkpoints hold only the GRU state (a few KB each); the next-piece distribution
is recomputed from the state when asked. With a neural cache, each checkpoint also marks how many of the cache's
rows its text gave, so an edit truncates the cache with the states.
"""

from __future__ import annotations

import bisect
import threading
import weakref

import torch

from assistant.decode.generate import CONTEXT_START
from assistant.engine.neuralcache import NeuralCacheSettings, PieceCache
from assistant.lm.model import GRULanguageModel
from assistant.text.tokenizer import Tokenizer
from assistant.text.words import WORD_RE, is_word_char

_APOSTROPHES = "'’"


def segment_ends(text: str) -> list[int]:
    """Offsets where segments end: after each word, and at the end of the text."""
    ends = [m.end() for m in WORD_RE.finditer(text)]
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
    return [e for e in ends if e > 0]


def is_word_end(text: str, offset: int) -> bool:
    """Whether a word of ``text`` ends exactly at ``offset`` (looks only at the neighbouring characters)."""
    if offset <= 0 or offset > len(text) or not is_word_char(text[offset - 1]):
        return False
    if offset == len(text):
        return True
    nxt = text[offset]
    if is_word_char(nxt):
        return False
    return not (nxt in _APOSTROPHES and offset + 1 < len(text) and is_word_char(text[offset + 1]))


class ContextCache:
    """GRU states along the current text; answers the state after any context, reusing what it can."""

    def __init__(
        self,
        model: GRULanguageModel,
        tokenizer: Tokenizer,
        score: bool = False,
        neural: NeuralCacheSettings | None = None,
    ) -> None:
        """``score``: also record each segment's log-probability of its word pieces (for the mixing weights).
        ``neural``: keep a neural cache over the text's states and mix it into every next-piece distribution."""
        self.model = model
        self.tokenizer = tokenizer
        self._device = next(model.parameters()).device
        start = torch.tensor([tokenizer.encode(CONTEXT_START)], dtype=torch.long, device=self._device)
        _, self._root = model.advance(start, None)
        self._text = ""
        self._ends: list[int] = [0]
        self._states: list[torch.Tensor] = [self._root]
        self.score = score
        self._scores: list[float] = [0.0]
        self._word_piece = shared_word_piece_mask(tokenizer).to(self._device) if score else None
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None
        self.neural = PieceCache(model.config.hidden_dim, neural) if neural is not None else None
        """The neural cache over the current text, or None."""
        self._rows: list[int] = [0]
        """Rows of the neural cache given by the text up to each checkpoint."""
        self.tokens_fed = 0
        """Pieces fed to the model since creation (a measure of the work done)."""

    def hidden(self, context: str) -> torch.Tensor:
        """GRU state ``(L, 1, H)`` after ``context``."""
        keep = common_prefix(self._text, context)
        i = bisect.bisect_right(self._ends, keep) - 1
        # A checkpoint stays valid where its offset is still a segment end of the new context.
        while i > 0 and not (self._ends[i] == len(context) or is_word_end(context, self._ends[i])):
            i -= 1
        del self._ends[i + 1 :]
        del self._states[i + 1 :]
        del self._scores[i + 1 :]
        del self._rows[i + 1 :]
        if self.neural is not None:
            self.neural.truncate(self._rows[-1])
        self._text = context
        h = self._states[-1]
        start = self._ends[-1]
        ends = [start + e for e in segment_ends(context[start:])]
        if not ends:
            return h
        texts = [context[a:b] for a, b in zip([start, *ends[:-1]], ends, strict=True)]
        for end, ids in zip(ends, self.tokenizer.encode_batch(texts), strict=True):
            score = 0.0
            if ids:  # one call per segment: the same computation whichever edit led here
                x = torch.tensor([ids], dtype=torch.long, device=self._device)
                out, h_next = self.model.advance_state(x, h)
                rows = torch.cat([h[-1], out[0, :-1]], dim=0)  # (T, H): the output before each piece
                if self._word_piece is not None:
                    score = self._segment_score(rows, ids)
                if self.neural is not None:
                    self.neural.append(rows, x[0])
                h = h_next
                self.tokens_fed += len(ids)
            self._ends.append(end)
            self._states.append(h)
            self._scores.append(score)
            self._rows.append(self.neural.length if self.neural is not None else 0)
        return h

    @torch.no_grad()
    def _segment_score(self, rows: torch.Tensor, ids: list[int]) -> float:
        """Log-probability of a segment's pieces that spell its word (separator-only pieces left out), under the
        neural cache as the text before the segment left it when there is one."""
        lp = torch.log_softmax(self.model.logits_from_output(rows).float(), dim=-1)  # (T, V)
        if self.neural is not None:
            lp = self.neural.mix(lp, rows)
        target = torch.tensor(ids, device=rows.device)
        picked = lp.gather(1, target[:, None])[:, 0]
        return float((picked * self._word_piece[target]).sum())

    def word_scores(self, count: int) -> list[float]:
        """Recorded log-probabilities of the last ``count`` segments of the current context (fewer if it has
        fewer; only with ``score``)."""
        return self._scores[1:][-count:] if count > 0 else []

    def state(self, context: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Next-piece log-probabilities ``(V,)`` and GRU state ``(L, 1, H)`` after ``context``."""
        h = self.hidden(context)
        if self._last is not None and self._last[0] is h:
            return self._last[1], h
        lp = self.model.next_logprobs(h)
        if self.neural is not None:
            lp = self.neural.mix(lp, h[-1])
        self._last = (h, lp[0])
        return lp[0], h

    def forget_distributions(self) -> None:
        """Drop the memoised next-piece distribution (the network's output layer changed; states stay valid)."""
        self._last = None

    def mix_neural(self, logprobs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
        """``logprobs`` ``(K, V)`` computed from ``outputs`` ``(K, H)`` after the current text, mixed with the
        neural cache (unchanged without one): the word search's hook for the pieces it expands."""
        return logprobs if self.neural is None else self.neural.mix(logprobs, outputs)

    def reset(self) -> None:
        """Forget every state (e.g. when switching documents)."""
        self._text = ""
        self._ends = [0]
        self._states = [self._root]
        self._scores = [0.0]
        self._rows = [0]
        self._last = None
        if self.neural is not None:
            self.neural.truncate(0)


_MASKS: weakref.WeakKeyDictionary[Tokenizer, torch.Tensor] = weakref.WeakKeyDictionary()
_MASKS_LOCK = threading.Lock()


def shared_word_piece_mask(tokenizer: Tokenizer) -> torch.Tensor:
    """:func:`word_piece_mask`, computed once per tokenizer (every predictor over a model shares it; read only)."""
    with _MASKS_LOCK:
        mask = _MASKS.get(tokenizer)
        if mask is None:
            mask = _MASKS[tokenizer] = word_piece_mask(tokenizer)
        return mask


def word_piece_mask(tokenizer: Tokenizer) -> torch.Tensor:
    """1.0 for pieces that hold a word character (or are bytes of a non-ASCII character), else 0.0."""
    mask = []
    for i in range(len(tokenizer)):
        raw = tokenizer.piece_bytes(i)
        if tokenizer.is_byte(i):
            mask.append(raw[0] >= 0x80 or is_word_char(chr(raw[0])))
        else:
            mask.append(any(is_word_char(c) for c in raw.decode("utf-8", errors="ignore")))
    return torch.tensor(mask, dtype=torch.float32)


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of ``a`` and ``b``."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n - 1  # binary search over slice comparisons, which run in C
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo
