"""Dynamic int8 quantisation of a model for CPU inference (GRU and linear layers).

On this machine it makes a batched search step about four times cheaper (see docs/benchmarks.md). It uses
``torch.ao.quantization.quantize_dynamic``, which newer torch releases mark as deprecated; where it is missing
or fails, the float model is used unchanged.
"""

from __future__ import annotations

import copy
import logging
import warnings

import torch
from torch import nn

from assistant.lm.model import GRULanguageModel

log = logging.getLogger(__name__)


class TiedHead(nn.Module):
    """Projection then the embedding-tied output layer, as plain linear layers that can be quantised."""

    def __init__(self, model: GRULanguageModel) -> None:
        super().__init__()
        self.projection = copy.deepcopy(model.projection)
        self.output = nn.Linear(model.config.embed_dim, model.config.vocab_size)
        with torch.no_grad():
            self.output.weight.copy_(model.embedding.weight)
            self.output.bias.copy_(model.output_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.projection(x))


def quantize_for_inference(model: GRULanguageModel) -> GRULanguageModel:
    """A copy of ``model`` whose GRU and output layers run in dynamic int8 (or ``model`` itself if unsupported)."""
    if next(model.parameters()).device.type != "cpu":
        return model
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.ao.quantization import quantize_dynamic

            shared = model.embedding.weight  # read-only in inference: one copy for both models
            q = copy.deepcopy(model, {id(shared): shared}).eval()
            q.head = quantize_dynamic(TiedHead(model).eval(), {nn.Linear}, dtype=torch.qint8)
            q.gru = quantize_dynamic(nn.Sequential(q.gru), {nn.GRU}, dtype=torch.qint8)[0]
            # Check it runs (some builds lack a quantised engine).
            q.step(torch.zeros(1, dtype=torch.long), None)
    except Exception as exc:  # any failure means: stay in float
        log.warning("int8 quantisation unavailable, using float weights: %s", exc)
        return model
    return q
