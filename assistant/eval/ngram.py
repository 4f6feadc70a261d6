"""The Kneser-Ney word n-gram baseline; it lives in :mod:`assistant.engine.ngram` (the engine also uses a pruned
one as a source), re-exported here for the evaluation code that names it."""

from __future__ import annotations

from assistant.engine.ngram import BOS, UNK, KneserNeyModel, NgramCandidate

__all__ = ["BOS", "UNK", "KneserNeyModel", "NgramCandidate"]
