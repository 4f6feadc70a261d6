"""The GRU language model: embedding -> GRU -> projection -> output tied to the embedding."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class GRUConfig:
    """Architecture of a :class:`GRULanguageModel`; stored in ``config.json`` beside the weights."""

    vocab_size: int
    """Number of pieces of the tokenizer."""
    embed_dim: int = 256
    """Width of the piece embedding, which the output layer shares."""
    hidden_dim: int = 512
    """Units per GRU layer."""
    num_layers: int = 1
    """Stacked GRU layers."""
    dropout: float = 0.1
    """Dropout on the embedding, between layers and before the projection (training only)."""

    def to_dict(self) -> dict[str, int | float]:
        """Plain fields for JSON."""
        return asdict(self)


class GRULanguageModel(nn.Module):
    """Next-piece model whose hidden state carries the whole context seen so far."""

    def __init__(self, config: GRUConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim)
        self.drop = nn.Dropout(c.dropout)
        self.gru = nn.GRU(
            c.embed_dim,
            c.hidden_dim,
            num_layers=c.num_layers,
            batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        self.projection = nn.Linear(c.hidden_dim, c.embed_dim)
        self.output_bias = nn.Parameter(torch.zeros(c.vocab_size))
        nn.init.normal_(self.embedding.weight, std=0.05)
        self.head: nn.Module | None = None
        """An inference-only replacement of projection + tied output (set by int8 quantisation)."""

    def init_hidden(self, batch_size: int = 1, device: torch.device | str | None = None) -> torch.Tensor:
        """A zero hidden state, shape ``(layers, batch, hidden)``."""
        return torch.zeros(self.config.num_layers, batch_size, self.config.hidden_dim, device=device)

    def logits_from_output(self, output: torch.Tensor) -> torch.Tensor:
        """Next-piece logits from GRU outputs ``(..., hidden)`` -> ``(..., vocab)``; weights tied to the embedding."""
        if self.head is not None:
            return self.head(output)
        return F.linear(self.projection(output), self.embedding.weight, self.output_bias)

    def forward(self, ids: torch.Tensor, hidden: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits for every position and the final hidden state.

        ``ids`` is ``(B, T)``; returns logits ``(B, T, V)`` and hidden ``(layers, B, H)``.
        """
        x = self.drop(self.embedding(ids))  # (B, T, E)
        out, hidden = self.gru(x, hidden)  # (B, T, H), (L, B, H)
        return self.logits_from_output(self.drop(out)), hidden

    @torch.no_grad()
    def step(self, ids: torch.Tensor, hidden: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One inference step: ``ids`` ``(B,)`` -> log-probabilities ``(B, V)`` and the new hidden state."""
        out, hidden = self.gru(self.embedding(ids[:, None]), hidden)  # (B, 1, H)
        return torch.log_softmax(self.logits_from_output(out[:, 0]).float(), dim=-1), hidden

    @torch.no_grad()
    def advance(self, ids: torch.Tensor, hidden: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed a run of pieces ``(B, T)``; return log-probabilities after the last one ``(B, V)`` and the state."""
        out, hidden = self.gru(self.embedding(ids), hidden)  # (B, T, H)
        return torch.log_softmax(self.logits_from_output(out[:, -1]).float(), dim=-1), hidden

    @torch.no_grad()
    def advance_state(self, ids: torch.Tensor, hidden: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed pieces ``(B, T)`` and return the GRU outputs ``(B, T, H)`` and state, without the output layer."""
        return self.gru(self.embedding(ids), hidden)

    @torch.no_grad()
    def next_logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(B, V)`` of the next piece from a state ``(layers, B, H)`` (the GRU's output is
        its top layer's state)."""
        return torch.log_softmax(self.logits_from_output(hidden[-1]).float(), dim=-1)

    def num_parameters(self) -> int:
        """Trainable parameters (the tied output counts once)."""
        return sum(p.numel() for p in self.parameters())
