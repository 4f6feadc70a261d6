"""Metrics with the definitions of docs/design.md: bits per character, next-word accuracy@k, keystroke savings@N.

Each takes anything with the predictor's ``words(text_before_cursor, n)`` method, so the GRU predictor and the
n-gram baseline are measured the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from assistant.decode.generate import CONTEXT_START
from assistant.lm.model import GRULanguageModel
from assistant.lm.scoring import bits_per_char, stream_nll
from assistant.text.tokenizer import Tokenizer
from assistant.text.words import word_spans

WordsDone = Callable[[int], None]
"""Called with the number of words just finished."""


class WordPredictor(Protocol):
    """What the metrics need from a predictor."""

    def words(self, text_before_cursor: str, n: int = 5) -> Sequence[object]:
        """Candidates with a ``word`` attribute, best first."""
        ...


@torch.no_grad()
def text_bpc(model: GRULanguageModel, tokenizer: Tokenizer, text: str, chunk: int = 512) -> float:
    """Bits per character of ``text`` read from the start of a document (after :data:`CONTEXT_START`)."""
    if not text:
        raise ValueError("cannot measure bits per character of an empty text")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    start = torch.tensor([tokenizer.encode(CONTEXT_START)], device=device)
    logprobs, hidden = model.advance(start, None)  # (1, V)
    model.train(was_training)
    ids = torch.tensor(tokenizer.encode(text), device=device)
    rest, _ = stream_nll(model, ids, batch_size=1, seq_len=chunk, hidden=hidden)
    return bits_per_char(rest - float(logprobs[0, ids[0]]), len(text))


@dataclass
class AccuracyResult:
    """Next-word accuracy at each word start."""

    words: int
    hits: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def accuracy(self, k: int) -> float:
        """Share of words that were among the top-k predictions."""
        return self.hits.get(k, 0) / max(1, self.words)


def next_word_accuracy(
    predictor: WordPredictor,
    text: str,
    ks: Sequence[int] = (1, 3),
    max_words: int | None = None,
    progress: WordsDone | None = None,
) -> AccuracyResult:
    """At each word start, is the word among the top-k predictions given the real text before it?"""
    spans = word_spans(text)[:max_words] if max_words else word_spans(text)
    n = max(ks)
    result = AccuracyResult(words=len(spans), hits={k: 0 for k in ks})
    for start, end in spans:
        t0 = time.perf_counter()
        predicted = [c.word for c in predictor.words(text[:start], n)]  # type: ignore[attr-defined]
        result.latencies_ms.append((time.perf_counter() - t0) * 1e3)
        target = text[start:end]
        for k in ks:
            if target in predicted[:k]:
                result.hits[k] += 1
        if progress:
            progress(1)
    return result


@dataclass
class KeystrokeResult:
    """Keystroke savings for several list sizes N (and next-word accuracy from the same replay)."""

    words: int
    keystrokes_without: int
    keystrokes_with: dict[int, int]
    latencies_ms: list[float] = field(default_factory=list)
    first_hits: dict[int, int] = field(default_factory=dict)
    """Words found among the top-k before their first letter (next-word accuracy@k counts)."""

    def ksr(self, n: int) -> float:
        """``1 - keystrokes_with / keystrokes_without``."""
        return 1.0 - self.keystrokes_with[n] / max(1, self.keystrokes_without)


def keystroke_savings(
    predictor: WordPredictor,
    text: str,
    ns: Sequence[int] = (1, 3, 5),
    max_words: int | None = None,
    progress: WordsDone | None = None,
    accuracy_ks: Sequence[int] = (1, 3),
) -> KeystrokeResult:
    """Keystroke savings with Presage's accounting (docs/design.md).

    A word of L characters costs L+1 keystrokes without prediction. With prediction, before each of its letters
    the predictor sees the real text before the cursor; if the word is among the N offered, one keystroke
    accepts it with its separator, so a word listed after i typed letters costs i+1.
    """
    spans = word_spans(text)[:max_words] if max_words else word_spans(text)
    top = max(*ns, *accuracy_ks)
    without = 0
    with_n = {n: 0 for n in ns}
    first = {k: 0 for k in accuracy_ks}
    latencies: list[float] = []
    for start, end in spans:
        word = text[start:end]
        length = len(word)
        without += length + 1
        pending = set(ns)
        for i in range(length):
            t0 = time.perf_counter()
            offered = [c.word for c in predictor.words(text[: start + i], top)]  # type: ignore[attr-defined]
            latencies.append((time.perf_counter() - t0) * 1e3)
            if i == 0:
                for k in accuracy_ks:
                    first[k] += word in offered[:k]
            for n in list(pending):
                if word in offered[:n]:
                    with_n[n] += i + 1
                    pending.discard(n)
            if not pending:
                break
        for n in pending:
            with_n[n] += length + 1
        if progress:
            progress(1)
    return KeystrokeResult(len(spans), without, with_n, latencies, first)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_percentiles(values_ms: Sequence[float], digits: int = 2) -> dict[str, float]:
    """``{"p50", "p95", "p99"}`` of latencies in milliseconds, rounded to ``digits``."""
    return {f"p{q}": round(percentile(values_ms, q), digits) for q in (50, 95, 99)}


@dataclass
class EvalReport:
    """Everything ``assistant eval`` reports, summed over one or more texts."""

    words: int = 0
    keystrokes_without: int = 0
    keystrokes_with: dict[int, int] = field(default_factory=lambda: {1: 0, 3: 0, 5: 0})
    first_hits: dict[int, int] = field(default_factory=lambda: {1: 0, 3: 0})
    bits: float | None = 0.0
    """Total bits of the texts (None when the predictor has no comparable character model)."""
    chars: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, result: KeystrokeResult, bits: float | None, chars: int) -> None:
        """Fold in one text's replay and its bits."""
        self.words += result.words
        self.keystrokes_without += result.keystrokes_without
        for n, v in result.keystrokes_with.items():
            self.keystrokes_with[n] = self.keystrokes_with.get(n, 0) + v
        for k, v in result.first_hits.items():
            self.first_hits[k] = self.first_hits.get(k, 0) + v
        self.bits = None if bits is None or self.bits is None else self.bits + bits
        self.chars += chars
        self.latencies_ms.extend(result.latencies_ms)

    def to_json(self) -> dict[str, object]:
        """The object ``eval --json`` prints (fractions, not percents)."""
        without = max(1, self.keystrokes_without)
        return {
            "words": self.words,
            "ksr": {str(n): round(1 - v / without, 4) for n, v in sorted(self.keystrokes_with.items())},
            "accuracy": {str(k): round(v / max(1, self.words), 4) for k, v in sorted(self.first_hits.items())},
            "bpc": None if self.bits is None else round(self.bits / max(1, self.chars), 4),
            "latency_ms": latency_percentiles(self.latencies_ms, digits=3),
        }
