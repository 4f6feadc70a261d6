"""Adaptive mixing of the GRU, the document memory and the personal memory.

The weights follow how well each source has predicted the recent words of the text: online EM over a window of
the last words (each word's probability under each source, recorded from the text before it), pulled toward a
prior by a few pseudo-words, so a memory that has been wrong loses its weight within a few words and an empty
document starts from the prior. At the cursor the weights are multiplied by how much of each source's mass
agrees with the partial word typed so far (Bayes' rule: ``P(source | prefix)``), so a word the GRU cannot spell
but a memory knows (``sqlite3_o``) wins as soon as the GRU's share of the prefix vanishes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.engine.memory import MemoryAnswer

SOURCES = ("model", "document", "personal")


@dataclass(frozen=True)
class MixSettings:
    """Constants of the mixing (fitted by ``benchmarks/fit_mixing.py`` on the development texts)."""

    window: int = 200
    """Recent words the weights are fitted on."""
    prior: tuple[float, float, float] = (0.85, 0.05, 0.1)
    """Weights of (model, document, personal) before any word is written."""
    prior_words: float = 20.0
    """Strength of the prior, in words."""
    iterations: int = 6
    """EM iterations per fit (from the prior)."""
    floor: float = 1e-6
    """Smallest probability a source is given for a word (a memory gives 0 to words it has never seen)."""


def em_weights(records: np.ndarray, available: Sequence[bool], settings: MixSettings) -> np.ndarray:
    """Mixture weights ``(3,)`` from ``records`` ``(T, 3)``: each recent word's probability under each source.

    Sources not ``available`` get weight 0. Maximises the window's likelihood under a Dirichlet-like prior.
    """
    mask = np.asarray(available, dtype=np.float64)
    prior = np.asarray(settings.prior, dtype=np.float64) * mask
    prior /= prior.sum()
    if not len(records):
        return prior
    p = np.maximum(np.asarray(records, dtype=np.float64), settings.floor) * mask  # (T, 3)
    lam = prior.copy()
    for _ in range(settings.iterations):
        joint = p * lam  # (T, 3)
        post = joint / joint.sum(axis=1, keepdims=True)
        lam = (post.sum(axis=0) + settings.prior_words * prior) / (len(p) + settings.prior_words)
    return lam


def mix(
    weights: np.ndarray, model: dict[str, float], model_share: float, memories: Sequence[MemoryAnswer]
) -> dict[str, float]:
    """``P(word | prefix)`` of the mixture: each source's ``P(word | prefix)`` weighted by its weight times its
    mass on the prefix, renormalised."""
    shares = [float(weights[0]) * model_share]
    shares += [float(w) * a.mass for w, a in zip(weights[1:], memories, strict=True)]
    total = sum(shares)
    if total <= 0:
        return dict(model)
    out: dict[str, float] = defaultdict(float)
    for word, p in model.items():
        out[word] += shares[0] / total * p
    for share, answer in zip(shares[1:], memories, strict=True):
        if share > 0:
            for word, p in answer.words.items():
                out[word] += share / total * p
    return out
