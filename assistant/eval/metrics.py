"""Metrics with the definitions of docs/design.md: bits per character, next-word accuracy@k, keystroke savings@N, and
the ghost text (how often it is shown past the current word, how often it is right, the characters it saves).

Each takes anything with the predictor's ``words(text_before_cursor, n)`` method, so the GRU predictor and the
n-gram baseline are measured the same way; a predictor that also has ``suggest`` (the GRU's) is asked through it,
so the same replay measures its ghost text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch

from assistant.decode.generate import CONTEXT_START
from assistant.engine.neuralcache import NeuralCacheSettings, cached_logprobs
from assistant.lm.model import GRULanguageModel
from assistant.lm.scoring import bits_per_char, stream_nll
from assistant.text.tokenizer import Tokenizer
from assistant.text.words import is_word_char, word_spans, words

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


@torch.no_grad()
def text_bpc_cached(
    model: GRULanguageModel, tokenizer: Tokenizer, text: str, neural: NeuralCacheSettings, chunk: int = 512
) -> float:
    """Bits per character of ``text`` under the network mixed with a neural cache over the text read so far
    (the last ``neural.size`` positions), from the start of a document as :func:`text_bpc`."""
    if not text:
        raise ValueError("cannot measure bits per character of an empty text")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    start = torch.tensor([tokenizer.encode(CONTEXT_START)], device=device)
    _, hidden = model.advance_state(start, None)
    ids = torch.tensor(tokenizer.encode(text), device=device)
    rows, net = [], []
    for a in range(0, len(ids), chunk):
        x = ids[a : a + chunk]
        out, h_next = model.advance_state(x[None], hidden)  # (1, T, H)
        r = torch.cat([hidden[-1], out[0, :-1]], dim=0)  # (T, H): the output before each piece
        lp = torch.log_softmax(model.logits_from_output(r).float(), dim=-1)  # (T, V)
        net.append(lp.gather(1, x[:, None])[:, 0])
        rows.append(r)
        hidden = h_next
    model.train(was_training)
    mixed = cached_logprobs(torch.cat(net), torch.cat(rows), ids, neural)
    return float(-mixed.sum()) / math.log(2) / len(text)


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
class GhostResult:
    """Ghost text over a replay: asked at every keystroke of the KSR replay.

    *Past the current word*: the ghost text holds at least one word after the one being typed. *First word
    right*: the word being typed and the first word after it are both the text's (a ghost text that only
    completes the current word is the word list's business, measured by KSR). *All right*: the text goes on
    exactly with the ghost text, up to a word end. *Saved*: a writer who presses Tab only when the whole ghost
    text is right (one keystroke for all of it) saves ``len(ghost) - 1`` characters each time, and the keystrokes
    inside what Tab inserted are not asked again."""

    asked: int = 0
    """Keystrokes at which the predictor was asked."""
    shown: int = 0
    """... at which the ghost text ran past the current word."""
    first_right: int = 0
    """... of those, with the current word and the next one right."""
    all_right: int = 0
    """... of those, with all of it right."""
    accepted: int = 0
    """Tab presses of the writer who takes only a wholly right ghost text (any length)."""
    saved_chars: int = 0
    """Characters that writer did not type, less one Tab per acceptance."""
    chars: int = 0
    """Characters of the replayed text (the share's denominator)."""

    def add(self, other: GhostResult) -> None:
        """Fold in another replay's counts."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_json(self) -> dict[str, float | int]:
        """Rates as fractions: shown per keystroke, right per shown, saved per character."""
        return {
            "shown": round(self.shown / max(1, self.asked), 4),
            "first_word_right": round(self.first_right / max(1, self.shown), 4),
            "all_right": round(self.all_right / max(1, self.shown), 4),
            "saved_chars": self.saved_chars,
            "saved_share": round(self.saved_chars / max(1, self.chars), 4),
            "accepted": self.accepted,
        }


def ghost_right(text: str, cursor: int, word_start: int, ghost: str) -> tuple[bool, bool, bool]:
    """``(past the current word, first word right, all right)`` for ``ghost`` shown at ``cursor`` of ``text``
    while the word starting at ``word_start`` is typed."""
    shown = words(text[word_start:cursor] + ghost)
    if len(shown) < 2:
        return False, False, False
    actual = words(text[word_start : cursor + len(ghost) + 64])
    first = shown[:2] == actual[:2]
    end = cursor + len(ghost)
    whole = text.startswith(ghost, cursor) and not (
        is_word_char(ghost[-1]) and end < len(text) and (is_word_char(text[end]) or _inner_apostrophe(text, end))
    )
    return True, first, whole


def _inner_apostrophe(text: str, i: int) -> bool:
    return text[i] in "'’" and i + 1 < len(text) and is_word_char(text[i + 1])


@dataclass
class KeystrokeResult:
    """Keystroke savings for several list sizes N (and next-word accuracy from the same replay)."""

    words: int
    keystrokes_without: int
    keystrokes_with: dict[int, int]
    latencies_ms: list[float] = field(default_factory=list)
    first_hits: dict[int, int] = field(default_factory=dict)
    """Words found among the top-k before their first letter (next-word accuracy@k counts)."""
    ghost: GhostResult | None = None
    """Ghost-text figures (None for a predictor without ``suggest``)."""
    idle_ms: list[float] = field(default_factory=list)
    """Time of each call of the predictor's ``idle`` that did some work (learning, reading ahead; between words,
    not in ``latencies_ms``)."""

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
    ghost: bool = True,
) -> KeystrokeResult:
    """Keystroke savings with Presage's accounting (docs/design.md).

    A word of L characters costs L+1 keystrokes without prediction. With prediction, before each of its letters
    the predictor sees the real text before the cursor; if the word is among the N offered, one keystroke
    accepts it with its separator, so a word listed after i typed letters costs i+1.

    A predictor with ``suggest`` is asked through it (its words are the same) and its ghost text is measured at
    the same keystrokes (:class:`GhostResult`); ``ghost=False`` asks ``words`` only. A predictor with
    ``idle`` (dynamic evaluation, reading ahead) is given one call of it after each word, as the app gives it the
    time between keystrokes; those calls are timed apart from the keystrokes.
    """
    spans = word_spans(text)[:max_words] if max_words else word_spans(text)
    top = max(*ns, *accuracy_ks)
    without = 0
    with_n = {n: 0 for n in ns}
    first = {k: 0 for k in accuracy_ks}
    latencies: list[float] = []
    suggest = getattr(predictor, "suggest", None) if ghost else None
    idle = getattr(predictor, "idle", None)
    idle_ms: list[float] = []
    ghosts = GhostResult(chars=spans[-1][1] if spans else 0) if suggest is not None else None
    tab_until = 0  # the Tab writer's cursor: keystrokes before it were inserted by an accepted ghost text
    for start, end in spans:
        word = text[start:end]
        length = len(word)
        without += length + 1
        pending = set(ns)
        for i in range(length):
            cursor = start + i
            t0 = time.perf_counter()
            if suggest is not None:
                answer = suggest(text[:cursor], top)
                latencies.append((time.perf_counter() - t0) * 1e3)
                offered = [c.word for c in answer.words]
                tab_until = _count_ghost(ghosts, text, cursor, start, answer.phrase, tab_until)  # type: ignore[arg-type]
            else:
                offered = [c.word for c in predictor.words(text[:cursor], top)]  # type: ignore[attr-defined]
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
        if idle is not None:
            t0 = time.perf_counter()
            if idle():
                idle_ms.append((time.perf_counter() - t0) * 1e3)
        if progress:
            progress(1)
    return KeystrokeResult(len(spans), without, with_n, latencies, first, ghosts, idle_ms)


def _count_ghost(ghost: GhostResult, text: str, cursor: int, word_start: int, phrase: object, tab_until: int) -> int:
    """Count one keystroke's ghost text; returns the Tab writer's new cursor."""
    ghost.asked += 1
    shown_text = getattr(phrase, "text", "") if phrase is not None else ""
    if not shown_text:
        return tab_until
    past, first, whole = ghost_right(text, cursor, word_start, shown_text)
    ghost.shown += past
    ghost.first_right += first
    ghost.all_right += past and whole
    if whole and cursor >= tab_until:
        ghost.accepted += 1
        ghost.saved_chars += len(shown_text) - 1
        return cursor + len(shown_text)
    return tab_until


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
    ghost: GhostResult | None = None
    """Ghost-text counts (None for a predictor without ghost text)."""

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
        if result.ghost is not None:
            if self.ghost is None:
                self.ghost = GhostResult()
            self.ghost.add(result.ghost)

    def to_json(self) -> dict[str, object]:
        """The object ``eval --json`` prints (fractions, not percents)."""
        without = max(1, self.keystrokes_without)
        return {
            "words": self.words,
            "ksr": {str(n): round(1 - v / without, 4) for n, v in sorted(self.keystrokes_with.items())},
            "accuracy": {str(k): round(v / max(1, self.words), 4) for k, v in sorted(self.first_hits.items())},
            "bpc": None if self.bits is None else round(self.bits / max(1, self.chars), 4),
            "latency_ms": latency_percentiles(self.latencies_ms, digits=3),
            "ghost": None if self.ghost is None else self.ghost.to_json(),
        }
