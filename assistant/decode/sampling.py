"""Choosing the next piece from a distribution: greedy, or sampling with temperature, top-k and top-p."""

from __future__ import annotations

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
