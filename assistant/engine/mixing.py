"""Adaptive mixing of any number of word sources: the GRU (with its neural cache, if on), the document memory,
the personal memory, the general n-gram and, in a language the network does not know, that language's
frequency list (:data:`SOURCES`).

The weights follow how well each source has predicted the recent words of the text: online EM over a window of
the last words (each word's probability under each source, recorded from the text before it), pulled toward a
prior by a few pseudo-words, so a memory that has been wrong loses its weight within a few words and an empty
document starts from the prior. At the cursor the weights are multiplied by how much of each source's mass
agrees with the partial word typed so far (Bayes' rule: ``P(source | prefix)``), so a word the GRU cannot spell
but a memory knows (``sqlite3_o``) wins as soon as the GRU's share of the prefix vanishes.

The model is always the first source; every other one answers a :class:`~assistant.store.memory.MemoryAnswer`.
A source with prior weight 0, or not available, takes no part (its weight stays 0).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.engine.memory import MemoryAnswer

SOURCES = ("model", "document", "personal", "ngram", "wordlist")
"""The sources, in the order of weights, priors and records."""


@dataclass(frozen=True)
class MixSettings:
    """Constants of the mixing (fitted by ``benchmarks/fit_mixing.py`` on the development texts)."""

    window: int = 200
    """Recent words the weights are fitted on."""
    prior: tuple[float, ...] = (0.85, 0.05, 0.1, 0.1)
    """Weights of the :data:`SOURCES` before any word is written (fewer entries: the rest are 0)."""
    prior_words: float = 20.0
    """Strength of the prior, in words."""
    iterations: int = 6
    """EM iterations per fit (from the prior)."""
    floor: float = 1e-6
    """Smallest probability a source is given for a word (a memory gives 0 to words it has never seen)."""

    def prior_of(self, count: int) -> np.ndarray:
        """The prior of the first ``count`` sources (missing entries 0)."""
        out = np.zeros(count)
        given = np.asarray(self.prior[:count], dtype=np.float64)
        out[: len(given)] = given
        return out

    def only(self, *names: str) -> MixSettings:
        """These settings with every source but the model and ``names`` switched off (prior 0)."""
        unknown = set(names) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown sources {sorted(unknown)}; known: {SOURCES}")
        prior = self.prior_of(len(SOURCES))
        kept = tuple(float(w) if s == "model" or s in names else 0.0 for s, w in zip(SOURCES, prior, strict=True))
        return replace(self, prior=kept)

    def with_prior(self, **weights: float) -> MixSettings:
        """These settings with some sources' prior weights changed (by name)."""
        prior = list(self.prior_of(len(SOURCES)))
        for name, w in weights.items():
            prior[SOURCES.index(name)] = float(w)
        return replace(self, prior=tuple(prior))


def em_weights(records: np.ndarray, available: Sequence[bool], settings: MixSettings) -> np.ndarray:
    """Mixture weights ``(S,)`` from ``records`` ``(T, S)``: each recent word's probability under each of the
    first ``S = len(available)`` sources.

    Sources not ``available`` get weight 0. Maximises the window's likelihood under a Dirichlet-like prior.
    """
    mask = np.asarray(available, dtype=np.float64)
    prior = settings.prior_of(len(mask)) * mask
    prior /= prior.sum()
    if not len(records):
        return prior
    p = np.maximum(np.asarray(records, dtype=np.float64), settings.floor) * mask  # (T, S)
    lam = prior.copy()
    for _ in range(settings.iterations):
        joint = p * lam  # (T, S)
        post = joint / joint.sum(axis=1, keepdims=True)
        lam = (post.sum(axis=0) + settings.prior_words * prior) / (len(p) + settings.prior_words)
    return lam


def mix(
    weights: np.ndarray, model: dict[str, float], model_share: float, memories: Sequence[MemoryAnswer]
) -> dict[str, float]:
    """``P(word | prefix)`` of the mixture: each source's ``P(word | prefix)`` weighted by its weight times its
    mass on the prefix, renormalised. ``weights`` ``(S,)``: the model's, then one per answer of ``memories``."""
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
