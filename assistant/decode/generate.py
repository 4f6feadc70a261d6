"""Step-by-step generation: each chosen piece is fed back with the carried GRU state.

Strategies: greedy, sampling (temperature, top-k, top-p, seeded) and beam search.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from assistant.decode.sampling import control_repetition, greedy_next, sample_next
from assistant.lm.model import GRULanguageModel
from assistant.text.tokenizer import Tokenizer
from assistant.text.words import count_words

CONTEXT_START = "\n\n"
"""Text put before every context: the paragraph break that starts each unit of the training stream."""

STRATEGIES = ("greedy", "sample", "beam")

REPEAT_WINDOW = 64
"""Pieces at the end of the seed that the repetition control counts as already written."""


@dataclass(frozen=True)
class GenerationConfig:
    """How to continue a text."""

    strategy: str = "greedy"
    """``greedy``, ``sample`` or ``beam``."""
    temperature: float = 1.0
    """Sampling temperature (> 0); lower is more conservative."""
    top_k: int = 0
    """Sample only among the k most likely pieces (0 = all)."""
    top_p: float = 1.0
    """Sample only within the smallest set of pieces holding this probability mass."""
    beam_width: int = 4
    """Hypotheses kept by beam search."""
    max_words: int = 20
    """Stop before the piece that would start one word more than this."""
    max_tokens: int = 200
    """Hard cap on generated pieces."""
    seed: int | None = None
    """Seed for sampling (None = nondeterministic)."""
    stop_at_paragraph: bool = True
    """Stop at a blank line."""
    no_repeat_ngram: int = 3
    """Never write a piece that repeats a run of this many pieces of the continuation or of the seed's end
    (greedy text otherwise loops: "the history of the history of"); 0 = off."""
    repetition_penalty: float = 1.0
    """Above 1, pieces already written (continuation and seed's end) are less likely: their log-probability is
    multiplied by it; 1 = off."""

    def validate(self) -> None:
        """Raise ValueError on options that make no sense."""
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}")
        if self.temperature <= 0:
            raise ValueError("temperature must be > 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("top-p must be in (0, 1]")
        if self.no_repeat_ngram < 0:
            raise ValueError("no-repeat n-gram size must be >= 0 (0 = off)")
        if self.repetition_penalty < 1:
            raise ValueError("repetition penalty must be >= 1 (1 = off)")
        if self.top_k < 0:
            raise ValueError(f"top-k must be >= 0 (0 = all), not {self.top_k}")
        for name, value in (("beam width", self.beam_width), ("max words", self.max_words)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, not {value}")
        if self.max_tokens < 1:
            raise ValueError(f"max tokens must be >= 1, not {self.max_tokens}")


@dataclass
class Generation:
    """A continuation and its log-probability under the model."""

    text: str
    """The generated text (without the seed)."""
    ids: list[int]
    """Generated piece ids."""
    logprob: float
    """Sum of the natural-log probabilities of the generated pieces."""


def prime(model: GRULanguageModel, tokenizer: Tokenizer, text: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the model over ``CONTEXT_START + text``; return next-piece log-probabilities ``(V,)`` and the state."""
    ids = tokenizer.encode(CONTEXT_START + text)
    x = torch.tensor([ids], dtype=torch.long, device=next(model.parameters()).device)
    logprobs, hidden = model.advance(x, None)  # (1, V), (L, 1, H)
    return logprobs[0], hidden


class _StopRule:
    """Decides whether a candidate piece ends the continuation (and is then left out)."""

    def __init__(self, tokenizer: Tokenizer, cfg: GenerationConfig) -> None:
        self.tokenizer = tokenizer
        self.cfg = cfg

    def stops(self, ids: list[int], candidate: int) -> bool:
        data = self.tokenizer.decode_bytes([*ids, candidate])
        text = data.decode("utf-8", errors="ignore")
        if count_words(text) > self.cfg.max_words:
            return True
        return self.cfg.stop_at_paragraph and "\n\n" in text


def greedy_tokens(
    model: GRULanguageModel, logprobs: torch.Tensor, hidden: torch.Tensor, n: int
) -> tuple[list[int], float]:
    """Exactly ``n`` greedy pieces from a primed state, with their summed log-probability."""
    ids: list[int] = []
    total = 0.0
    device = logprobs.device
    for _ in range(n):
        nxt = greedy_next(logprobs)
        total += float(logprobs[nxt])
        ids.append(nxt)
        out, hidden = model.step(torch.tensor([nxt], device=device), hidden)
        logprobs = out[0]
    return ids, total


def beam_tokens(
    model: GRULanguageModel, logprobs: torch.Tensor, hidden: torch.Tensor, n: int, width: int
) -> tuple[list[int], float]:
    """The best sequence of exactly ``n`` pieces found by beam search of ``width``, with its log-probability."""
    device = logprobs.device
    beams: list[list[int]] = [[]]
    scores = torch.zeros(1, device=device)
    lp = logprobs[None]  # (K, V)
    for _ in range(n):
        total = scores[:, None] + lp  # (K, V)
        flat = total.reshape(-1)
        top = torch.topk(flat, min(width, flat.numel()))
        vocab = lp.shape[-1]
        origin = (top.indices // vocab).tolist()
        token = (top.indices % vocab).tolist()
        beams = [beams[o] + [t] for o, t in zip(origin, token, strict=True)]
        scores = top.values
        hidden = hidden[:, origin]
        lp, hidden = model.step(torch.tensor(token, device=device), hidden)
    best = int(torch.argmax(scores))
    return beams[best], float(scores[best])


def generate(model: GRULanguageModel, tokenizer: Tokenizer, seed_text: str, cfg: GenerationConfig) -> Generation:
    """Continue ``seed_text`` with the configured strategy and stop rules."""
    cfg.validate()
    logprobs, hidden = prime(model, tokenizer, seed_text)
    written = tokenizer.encode(seed_text)[-REPEAT_WINDOW:]
    if cfg.strategy == "beam":
        return _beam_generate(model, tokenizer, logprobs, hidden, cfg, written)
    rule = _StopRule(tokenizer, cfg)
    generator = None
    if cfg.strategy == "sample":
        generator = torch.Generator(device=logprobs.device)
        if cfg.seed is not None:
            generator.manual_seed(cfg.seed)
        else:
            generator.seed()
    ids: list[int] = []
    total = 0.0
    for _ in range(cfg.max_tokens):
        allowed = control_repetition(logprobs, [*written, *ids], cfg.no_repeat_ngram, cfg.repetition_penalty)
        if cfg.strategy == "greedy":
            nxt = greedy_next(allowed)
        else:
            nxt = sample_next(allowed, cfg.temperature, cfg.top_k, cfg.top_p, generator)
        if rule.stops(ids, nxt):
            break
        total += float(logprobs[nxt])
        ids.append(nxt)
        out, hidden = model.step(torch.tensor([nxt], device=logprobs.device), hidden)
        logprobs = out[0]
    return Generation(tokenizer.decode(ids), ids, total)


def _beam_generate(
    model: GRULanguageModel,
    tokenizer: Tokenizer,
    logprobs: torch.Tensor,
    hidden: torch.Tensor,
    cfg: GenerationConfig,
    written: list[int] | None = None,
) -> Generation:
    """Beam search with the stop rules and the repetition control (after the seed's pieces ``written``);
    finished hypotheses compete by mean log-probability per piece."""
    written = written or []
    rule = _StopRule(tokenizer, cfg)
    device = logprobs.device
    width = cfg.beam_width
    beams: list[list[int]] = [[]]
    scores: list[float] = [0.0]
    lp = logprobs[None]  # (K, V)
    finished: list[tuple[float, list[int], float]] = []
    for _ in range(cfg.max_tokens):
        if cfg.no_repeat_ngram or cfg.repetition_penalty != 1.0:
            lp = torch.stack(
                [
                    control_repetition(row, [*written, *b], cfg.no_repeat_ngram, cfg.repetition_penalty)
                    for row, b in zip(lp, beams, strict=True)
                ]
            )
        total = torch.tensor(scores, device=device)[:, None] + lp  # (K, V)
        flat = total.reshape(-1)
        order = torch.topk(flat, min(flat.numel(), 4 * width)).indices.tolist()
        vocab = lp.shape[-1]
        next_beams: list[list[int]] = []
        next_scores: list[float] = []
        origins: list[int] = []
        for idx in order:
            o, t = divmod(idx, vocab)
            if rule.stops(beams[o], t):
                if beams[o]:
                    finished.append((scores[o] / len(beams[o]), beams[o], scores[o]))
                continue
            next_beams.append(beams[o] + [t])
            next_scores.append(float(flat[idx]))
            origins.append(o)
            if len(next_beams) == width:
                break
        if len(finished) >= width or not next_beams:
            break
        beams, scores = next_beams, next_scores
        hidden = hidden[:, origins]
        lp, hidden = model.step(torch.tensor([b[-1] for b in beams], device=device), hidden)
    if not finished:  # nothing reached a stop: the best unfinished hypotheses compete
        finished = [(s / len(b), b, s) for b, s in zip(beams, scores, strict=True) if b]
    if not finished:
        return Generation("", [], 0.0)
    _, ids, score = max(finished, key=lambda f: f[0])
    return Generation(tokenizer.decode(ids), ids, score)
