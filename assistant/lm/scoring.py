"""Log-likelihood of token streams under a model, the basis of loss and bits per character."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from assistant.lm.model import GRULanguageModel


def piece_nll(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Negative log-likelihood in nats of next-piece ``targets`` ``(B, T)`` under ``logits`` ``(B, T, V)``.

    The one loss of the project: training minimises its mean, scoring sums it (computed in float32 even under
    bf16 autocast).
    """
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)


def kl_to_teacher(logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """``KL(teacher || model)`` per piece, averaged over the ``(B, T)`` positions of both ``(B, T, V)``."""
    vocab = logits.shape[-1]
    return F.kl_div(
        torch.log_softmax(logits.float(), -1).reshape(-1, vocab),
        torch.log_softmax(teacher_logits.float(), -1).reshape(-1, vocab),
        log_target=True,
        reduction="batchmean",
    )


@torch.no_grad()
def stream_nll(
    model: GRULanguageModel,
    ids: torch.Tensor,
    batch_size: int = 16,
    seq_len: int = 256,
    hidden: torch.Tensor | None = None,
) -> tuple[float, int]:
    """Total negative log-likelihood in nats of a 1-D stream and the number of predicted tokens.

    The stream is cut into ``batch_size`` contiguous columns and read with the hidden state carried across
    chunks, starting from ``hidden`` (``(L, 1, H)``, batch 1 only) or an empty state. The first token of each
    column is only context (not scored).
    """
    if hidden is not None and batch_size != 1:
        raise ValueError("a starting hidden state needs batch_size 1")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    n = ids.numel()
    batch_size = max(1, min(batch_size, n // 2)) if n >= 2 else 1
    col = n // batch_size
    columns = ids[: col * batch_size].view(batch_size, col).to(device)  # (B, N)
    total = 0.0
    count = 0
    for start in range(0, col - 1, seq_len):
        x = columns[:, start : start + seq_len]
        y = columns[:, start + 1 : start + 1 + seq_len]
        x = x[:, : y.shape[1]]
        logits, hidden = model(x, hidden)  # (B, T, V)
        total += float(piece_nll(logits, y, reduction="sum"))
        count += y.numel()
    model.train(was_training)
    return total, count


def bits_per_char(nll_nats: float, chars: int) -> float:
    """Bits per character from a total negative log-likelihood in nats."""
    return nll_nats / math.log(2) / max(chars, 1)
