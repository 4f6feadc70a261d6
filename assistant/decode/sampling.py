"""Choosing the next piece from a distribution: greedy, or sampling with temperature, top-k and top-p; and
keeping a continuation from repeating itself (no-repeat n-grams, repetition penalty)."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def filtered_logprobs(
    logprobs: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> torch.Tensor:
    """Log-probabilities ``(..., V)`` rescaled by temperature and cut to the top-k / nucleus, renormalised.

    Removed pieces get ``-inf``. ``top_k`` 0 and ``top_p`` 1 keep everything; the most likely piece always
    survives.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0 (use the greedy strategy for argmax)")
    if not 0 < top_p <= 1:
        raise ValueError("top_p must be in (0, 1]")
    if top_k < 0:
        raise ValueError("top_k must be >= 0")
    scores = logprobs.float() / temperature
    if top_k and top_k < scores.shape[-1]:
        kth = torch.topk(scores, top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if top_p < 1.0:
        sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
        probs = torch.softmax(sorted_scores, dim=-1)
        before = torch.cumsum(probs, dim=-1) - probs  # mass of strictly better pieces
        drop_sorted = before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    return torch.log_softmax(scores, dim=-1)


def sample_next(
    logprobs: torch.Tensor,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
) -> int:
    """Draw one piece id from ``logprobs`` ``(V,)`` after temperature, top-k and top-p."""
    probs = filtered_logprobs(logprobs, temperature, top_k, top_p).exp()
    return int(torch.multinomial(probs, 1, generator=generator))


def greedy_next(logprobs: torch.Tensor) -> int:
    """The most likely piece id."""
    return int(torch.argmax(logprobs))


def banned_by_ngrams(history: Sequence[int], n: int) -> list[int]:
    """Pieces that would repeat an ``n``-gram of ``history`` (the ``n - 1`` last pieces followed by a piece
    that followed them before); empty when ``n`` is 0 or the history is too short."""
    if n <= 0 or len(history) < n:
        return []
    if n == 1:
        return sorted(set(history))
    key = list(history[len(history) - n + 1 :])
    k = n - 1
    return sorted({history[i + k] for i in range(len(history) - k) if list(history[i : i + k]) == key})


def control_repetition(logprobs: torch.Tensor, history: Sequence[int], no_repeat: int, penalty: float) -> torch.Tensor:
    """``logprobs`` ``(V,)`` with the pieces that would repeat an n-gram of ``history`` removed (``-inf``) and,
    with ``penalty`` > 1, every piece of ``history`` made less likely (its log-probability times ``penalty``, as
    CTRL divides a positive logit), renormalised. The most likely allowed piece survives: if every piece were
    banned, nothing is."""
    if no_repeat <= 0 and penalty == 1.0:
        return logprobs
    scores = logprobs.float().clone()
    if penalty != 1.0 and history:
        seen = torch.tensor(sorted(set(history)), dtype=torch.long, device=scores.device)
        scores[seen] = scores[seen] * penalty
    banned = banned_by_ngrams(history, no_repeat)
    if banned and len(banned) < scores.numel():
        scores[torch.tensor(banned, dtype=torch.long, device=scores.device)] = float("-inf")
    return torch.log_softmax(scores, dim=-1)
