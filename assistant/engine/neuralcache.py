"""Neural cache (Grave, Joulin and Usunier 2017): the GRU's outputs along the document, each with the piece that
followed it, as a next-piece distribution mixed with the network's.

``P(v | h) = (1 - lambda) P_net(v | h) + lambda * sum_i [x_{i+1} = v] softmax_i(theta * h . h_i)`` over the last
``size`` positions. It works at the piece level, inside the network's source: the word search sees the mixed
distribution at every piece it expands, so a word repeated from the document (a name, a term in several
pieces) is found and spelled like any other, and bits per character measure it directly.

The store is a buffer of rows that grows and shrinks with the hidden-state checkpoints of
:class:`~assistant.engine.context.ContextCache`: every segment appends its rows, an edit truncates to the last
valid checkpoint, so after any sequence of edits the cache holds exactly what the text before the cursor gives.

Off by default (``Predictor(neural=NeuralCacheSettings())`` turns it on): on the development texts it lowers bits
per character (tech 1.50 -> 1.37) but adds at most half a KSR@3 point on top of the document memory and the
n-gram, shows less ghost text, and costs about 40% more keystroke time (``docs/benchmarks.md``, issue 25).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class NeuralCacheSettings:
    """Constants of the neural cache (fitted on the development texts' bits per character)."""

    weight: float = 0.1
    """``lambda``: the cache's share of the next-piece distribution once it is full."""
    theta: float = 0.3
    """Flatness of the cache's attention: ``softmax(theta * h . h_i)``."""
    size: int = 1000
    """Most recent positions attended to."""
    warmup: int = 100
    """The weight grows linearly over the first this many positions (a near-empty cache is mostly noise)."""


class PieceCache:
    """Rows ``(h_i, x_{i+1})`` in order of the text, with truncation back to any earlier length."""

    def __init__(self, hidden_dim: int, settings: NeuralCacheSettings | None = None) -> None:
        self.settings = settings or NeuralCacheSettings()
        self._keys = torch.zeros(256, hidden_dim)
        self._ids = torch.zeros(256, dtype=torch.long)
        self.length = 0
        """Rows held."""
        self._view: tuple[int, torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        """For the rows held when last asked: (length, keys, distinct pieces, each row's index among them)."""

    def truncate(self, length: int) -> None:
        """Keep the first ``length`` rows (an edit went back to a checkpoint)."""
        self.length = min(self.length, length)
        self._view = None

    def append(self, keys: torch.Tensor, ids: torch.Tensor) -> None:
        """Add rows: ``keys`` ``(T, H)`` the output before each piece, ``ids`` ``(T,)`` the pieces."""
        need = self.length + len(ids)
        if need > len(self._ids):
            grow = max(need, 2 * len(self._ids))
            keys_buf = torch.zeros(grow, self._keys.shape[1])
            ids_buf = torch.zeros(grow, dtype=torch.long)
            keys_buf[: self.length] = self._keys[: self.length]
            ids_buf[: self.length] = self._ids[: self.length]
            self._keys, self._ids = keys_buf, ids_buf
        self._keys[self.length : need] = keys.float()
        self._ids[self.length : need] = ids
        self.length = need
        self._view = None

    def weight(self) -> float:
        """``lambda`` for the rows held now."""
        s = self.settings
        return s.weight * min(1.0, self.length / max(1, s.warmup))

    def mix(self, logprobs: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """Mixed log-probabilities ``(K, V)`` from the network's ``logprobs`` ``(K, V)`` and the outputs
        ``queries`` ``(K, H)`` they were computed from."""
        lam = self.weight()
        if lam <= 0 or not self.length:
            return logprobs
        if self._view is None or self._view[0] != self.length:
            lo = max(0, self.length - self.settings.size)
            distinct, where = torch.unique(self._ids[lo : self.length], return_inverse=True)
            self._view = (self.length, self._keys[lo : self.length], distinct, where)
        _, keys, distinct, where = self._view  # (N, H), (U,), (N,)
        attn = torch.softmax(self.settings.theta * (queries.float() @ keys.T), dim=-1)  # (K, N)
        cache = torch.zeros(len(attn), len(distinct)).index_add_(1, where, attn)  # (K, U): only pieces it holds
        out = logprobs + math.log1p(-lam)
        out[:, distinct] = torch.logaddexp(out[:, distinct], torch.log(cache * lam + 1e-30))
        return out


@torch.no_grad()
def cached_logprobs(
    net: torch.Tensor, rows: torch.Tensor, ids: torch.Tensor, settings: NeuralCacheSettings
) -> torch.Tensor:
    """For a whole text read at once: the cache-mixed log-probability of each piece ``(T,)``.

    ``net`` ``(T,)`` is the network's log-probability of each piece, ``rows`` ``(T, H)`` the outputs it came from,
    ``ids`` ``(T,)`` the pieces; position ``t`` attends to rows ``t - size .. t - 1`` (what
    :class:`PieceCache` holds there), in blocks so memory stays bounded."""
    out = torch.empty(len(ids))
    block = 256
    for a in range(0, len(ids), block):
        b = min(len(ids), a + block)
        lo = max(0, a - settings.size)
        keys = rows[lo:b].float()  # (N, H)
        scores = settings.theta * (rows[a:b].float() @ keys.T)  # (B, N)
        pos = torch.arange(a, b)[:, None]
        col = torch.arange(lo, b)[None, :]
        visible = (col < pos) & (col >= pos - settings.size)
        scores = scores.masked_fill(~visible, -math.inf)
        attn = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # the first row attends to nothing
        hit = (ids[lo:b][None, :] == ids[a:b][:, None]).float()  # (B, N): rows followed by the same piece
        p_cache = (attn * hit).sum(dim=1)
        lam = settings.weight * torch.clamp(torch.arange(a, b, dtype=torch.float32) / max(1, settings.warmup), max=1.0)
        out[a:b] = torch.logaddexp(net[a:b].float() + torch.log1p(-lam), torch.log(p_cache * lam + 1e-30))
    return out
