"""The compact general n-gram shipped beside the base model, as one more source of the adaptive mixing.

It answers like the memories (:class:`~assistant.store.memory.MemoryAnswer`: ``P(word | prefix)`` and the mass
on the prefix) from the last words of the paragraph before the cursor, and gives the probability of each recent
word for the mixing weights. The model is mapped from disk on first use, so opening a predictor costs nothing.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.engine.memory import MemoryAnswer, shape
from assistant.engine.ngram import KneserNeyModel

FOLDER_NAME = "ngram"
"""The n-gram's folder inside a model folder (``models/base/ngram/``)."""

SHAPED_PER_ANSWER = 3
"""Candidates shaped per word asked for (the likeliest; two spellings of one word, ``the``/``The`` at a sentence
start, then add up).  The rest count only in the prefix's mass."""

MEMO_LIMIT = 65_536
"""Recorded word probabilities kept (they repeat as the mixing window slides)."""


class NgramSource:
    """A pruned Kneser-Ney word n-gram, mapped lazily from ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model: KneserNeyModel | None = None
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, ...], float] = {}
        self._view: tuple[tuple[int, ...], list] | None = None
        """The last context's view (the context stays while a word is typed)."""

    @classmethod
    def beside(cls, model_dir: Path) -> NgramSource | None:
        """The n-gram shipped in ``model_dir``, or None when it has none."""
        folder = model_dir / FOLDER_NAME
        return cls(folder) if (folder / "ngram.json").is_file() else None

    @staticmethod
    @functools.cache
    def shared(model_dir: Path) -> NgramSource | None:
        """One source per model folder for the whole process (every predictor shares its mapped tables)."""
        return NgramSource.beside(model_dir.resolve())

    @property
    def model(self) -> KneserNeyModel:
        """The mapped model (mapped on first use; thread-safe)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = KneserNeyModel.load_folder(self.folder)
        return self._model

    @property
    def order(self) -> int:
        """Words of context plus one."""
        return self.model.order

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.model._index

    def answer(self, context: Sequence[str], prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest words that start with ``prefix`` after the words ``context`` (of the paragraph
        before the cursor), shaped like the memories' (capitalised at a sentence start)."""
        m = self.model
        ctx = tuple(m._context_ids(context))
        last = self._view  # one read: predictors on other threads share the source
        if last is None or last[0] != ctx:
            last = self._view = (ctx, m.view(ctx))
        view = last[1]
        prefixes = {prefix}
        if sentence_start and prefix[:1].isupper():
            prefixes.add(prefix[:1].lower() + prefix[1:])  # the n-gram knows "the", the writer typed "T"
        pools = [m.candidates_in(view, *m._prefix_range(p)) for p in prefixes]
        cands = np.unique(np.concatenate(pools)) if pools else np.zeros(0, dtype=np.int64)
        if not len(cands):
            return MemoryAnswer({}, 0.0)
        if sentence_start and prefix[:1] != prefix[:1].upper():
            return MemoryAnswer({}, 0.0)  # a word is offered capitalised there: none starts with a lower-case letter
        p = m.prob_in(view, cands)
        total = float(p.sum())  # every candidate starts with the prefix (as typed, or capitalised as shown)
        if total <= 0:
            return MemoryAnswer({}, 0.0)
        probs: dict[str, float] = {}
        for i in np.argsort(-p, kind="stable")[: SHAPED_PER_ANSWER * k]:  # only the likeliest are shown
            word = shape(m.vocab[int(cands[i])], sentence_start)
            if word.startswith(prefix):
                probs[word] = probs.get(word, 0.0) + float(p[i])
        mass = 1.0 if not prefix else min(1.0, total)
        top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:k]
        norm = total if prefix else 1.0
        return MemoryAnswer({w: q / norm for w, q in top}, mass)

    def probability(self, word: str, context: Sequence[str]) -> float:
        """``P(word | context)`` (the last ``order - 1`` words count), memoised."""
        key = (*context[-(self.order - 1) :], word)
        found = self._memo.get(key)
        if found is None:
            m = self.model
            wid = m._index.get(word, 0)
            found = float(m.prob(m._context_ids(context), np.array([wid]))[0]) if wid >= 2 else 0.0
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found
