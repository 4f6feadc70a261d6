"""Dynamic evaluation of the network's output layer (Krause et al. 2018, "Dynamic evaluation of neural sequence
models"): while the writer writes, the layer that turns the GRU's state into next-piece probabilities takes a
gradient step on each run of the document's finished words, so the network leans toward the document's own
words and phrasing within a few sentences.

Only the output layer's projection (the GRU state to the embedding space) and a shift of its bias learn; the
output weights tied to the embedding stay the network's (int8 where the network is), and so do the GRU's
states, so every state the predictor has cached stays valid. A step costs one pass of the layer over the run's
states and keeps about 0.6 MB of its own (learning the 8,000 x 256 output weights too gave a little more on
technical text, 1.392 against 1.426 bits/char, but cost about 70 MB of resident memory through re-quantising
them after every call: ``docs/benchmarks.md``). The predictor runs a private copy of the network whose output
layer is this learner's (the GRU, the embedding and the output weights are shared with any other predictor).

The learning happens in :meth:`HeadLearner.learn`, called between keystrokes (the app's answering thread when
no keystroke waits, ``eval`` between words), never on a keystroke's path. What it learned lives in memory only
and is dropped with the document (:meth:`HeadLearner.reset`, or when most of the learned text is gone: another
document opened in the same predictor); the personal fine-tune is what persists.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from assistant.decode.generate import CONTEXT_START
from assistant.engine.context import common_prefix
from assistant.lm.model import GRULanguageModel
from assistant.text.tokenizer import Tokenizer


@dataclass(frozen=True)
class DynamicSettings:
    """Constants of the dynamic evaluation (chosen by ``benchmarks/dynamic_eval.py``, bits/char on the
    development texts)."""

    learning_rate: float = 0.2
    """SGD step size."""
    chunk: int = 16
    """Pieces per gradient step (truncated backpropagation over the document, one step per run)."""
    max_steps: int = 2
    """Gradient steps per :meth:`HeadLearner.learn` call, which waits for that many chunks of finished words
    (half as many calls as one step each, every one dropping the search's remembered paths; a longer run is
    learned over several calls, so no call keeps a keystroke waiting for long)."""

    @property
    def run(self) -> int:
        """Pieces one call learns."""
        return self.chunk * self.max_steps

    catch_up: int = 4096
    """Characters learned of a text that arrives at once (a document opened or pasted): its last ones only,
    from a fresh state, not the whole text from its start."""
    clip: float = 1.0
    """Gradient norm clipping."""


class HeadLearner:
    """The predictor's own copy of the network, whose output layer learns the document as it is written."""

    def __init__(
        self,
        float_model: GRULanguageModel,
        run_model: GRULanguageModel,
        tokenizer: Tokenizer,
        settings: DynamicSettings | None = None,
    ) -> None:
        """``float_model``: the float weights the output layer starts from (and returns to on :meth:`reset`);
        ``run_model``: the network the predictor runs (float, or its int8 copy), left unchanged."""
        self.settings = settings or DynamicSettings()
        self._float = float_model
        self.model = copy.copy(run_model)
        """The network to run: ``run_model``'s GRU and embedding with this learner's output layer."""
        self.model._modules = dict(run_model._modules)  # its own module table: setting its head leaves the shared one
        self._original_head = run_model.head
        self.tokenizer = tokenizer
        self._head: AdaptedHead | None = None
        start = torch.tensor([tokenizer.encode(CONTEXT_START)], dtype=torch.long)
        _, self._root = run_model.advance_state(start, None)
        self._ends: list[int] = [0]
        self._states: list[torch.Tensor] = [self._root]
        self._text = ""
        self.steps = 0
        """Gradient steps taken since the last reset."""
        self.nll = 0.0
        """Summed negative log-likelihood (nats) of the pieces learned since the last reset, each chunk scored
        just before its step (dynamic evaluation's own measure, ``benchmarks/dynamic_eval.py``)."""

    def learn(self, text: str) -> bool:
        """Take about ``max_steps`` gradient steps on the finished words of ``text`` (the document before the
        cursor) not yet learned from; True if the output layer changed (a step, or what was learned dropped),
        False when fewer than a run of them (``DynamicSettings.run``) were there."""
        keep = common_prefix(self._text, text)
        if keep < len(self._text) // 2 and self.steps:  # most of what was learned is gone: another document
            self.reset()
            return True
        while len(self._ends) > 1 and self._ends[-1] > keep:  # an edit: learn again from before it
            self._ends.pop()
            self._states.pop()
        start = self._ends[-1]
        s = self.settings
        if len(text) - start > s.catch_up:  # opened or pasted: only the recent part, from a fresh state
            skip = _last_word_end(text, start, len(text) - s.catch_up)
            if skip > start:
                start = skip
                self._ends.append(start)
                self._states.append(self._root)
        ids, end = self._next_run(text, start)
        if len(ids) < s.run:
            self._text = text[:start]
            return False
        h = self._states[-1]
        x = torch.tensor([ids], dtype=torch.long)
        with torch.no_grad():
            out, h_next = self.model.advance_state(x, h)
        rows = torch.cat([h[-1], out[0, :-1]], dim=0)  # (T, H): the GRU's output before each piece
        self._step(rows, x[0])
        self._ends.append(end)
        self._states.append(h_next)
        self._text = text[:end]
        return True

    def _next_run(self, text: str, start: int) -> tuple[list[int], int]:
        """The pieces of the finished words after ``start``, about :attr:`DynamicSettings.run` of them (at least
        that many when there are), and the offset they end at."""
        run = self.settings.run
        span = 4 * run  # characters: a piece is about four
        while True:
            last = start + span >= len(text)
            end = _last_word_end(text, start, None if last else start + span)
            ids = self.tokenizer.encode(text[start:end]) if end > start else []
            if len(ids) >= run or last:
                return ids, end
            span *= 2

    def _step(self, rows: torch.Tensor, targets: torch.Tensor) -> None:
        """SGD on the projection and the bias shift over ``rows`` in chunks; the network then runs the new layer."""
        s = self.settings
        if self._head is None:
            self._head = AdaptedHead(self._float, self._original_head)
        head = self._head
        params = head.learned()
        head.requires_grad_(True)  # only while learning: answers through the layer build no graph
        with torch.enable_grad():
            for a in range(0, len(targets), s.chunk):
                logits = head.float_logits(rows[a : a + s.chunk].float())
                loss = nn.functional.cross_entropy(logits, targets[a : a + s.chunk], reduction="sum")
                self.nll += float(loss.detach())
                if len(logits) < s.chunk // 2:
                    break  # too short a last part for a step of its own (scored all the same)
                loss = loss / len(logits)
                grads = torch.autograd.grad(loss, params)
                norm = torch.sqrt(sum((g * g).sum() for g in grads))
                scale = s.learning_rate * min(1.0, s.clip / (float(norm) + 1e-6))
                with torch.no_grad():
                    for p, g in zip(params, grads, strict=True):
                        p.sub_(g, alpha=scale)
                self.steps += 1
        head.requires_grad_(False)
        head.refresh()
        self.model.head = head

    def reset(self) -> None:
        """Forget what was learned (another document): the output layer the network started with."""
        self._head = None
        self.model.head = self._original_head
        self._ends = [0]
        self._states = [self._root]
        self._text = ""
        self.steps = 0
        self.nll = 0.0

    @property
    def learned_text(self) -> str:
        """The text learned from since the last reset (the pieces :attr:`nll` scored)."""
        return self._text


class AdaptedHead(nn.Module):
    """The output layer with a learned projection and bias shift before the network's own output weights."""

    def __init__(self, float_model: GRULanguageModel, run_head: nn.Module | None) -> None:
        """``run_head``: the int8 layer the network runs (its output weights are reused), None for float."""
        super().__init__()
        self.projection = copy.deepcopy(float_model.projection)
        self.shift = nn.Parameter(torch.zeros(float_model.config.vocab_size))
        self.requires_grad_(False)
        self._tied = (float_model.embedding.weight.detach(), float_model.output_bias.detach())
        """The float output weights and bias (shared, never changed): the gradient flows through them."""
        self._int8 = (run_head.output, _int8(self.projection)) if run_head is not None else None
        """The int8 output weights with the bias (shared with the network) and an int8 copy of the projection
        (:meth:`refresh`); None: a float network."""

    def learned(self) -> list[nn.Parameter]:
        """What a gradient step changes."""
        return [self.projection.weight, self.projection.bias, self.shift]

    def float_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits through the float output weights (what a gradient step differentiates)."""
        weight, bias = self._tied
        return F.linear(self.projection(x), weight, bias + self.shift)

    def refresh(self) -> None:
        """After a step: the int8 copy of the projection again (1-2 ms; the output weights need none)."""
        if self._int8 is not None:
            self._int8 = (self._int8[0], _int8(self.projection))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._int8 is None:
            return self.float_logits(x)
        output, projection = self._int8
        return output(projection(x)).add_(self.shift)  # as fast as the network's own int8 layer


def _int8(linear: nn.Linear) -> nn.Module:
    """An int8 copy of ``linear`` for inference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(nn.Sequential(copy.deepcopy(linear)), {nn.Linear}, dtype=torch.qint8)[0]


def _last_word_end(text: str, start: int, before: int | None = None) -> int:
    """The end of the last word of ``text[start:before]`` that a separator follows (``start`` when none does):
    a run ends there and the next one starts with the separator, so each is tokenised as the predictor's
    context is (a word's leading space in the same piece as the word)."""
    stop = len(text) if before is None else before
    for i in range(stop - 1, start, -1):
        if text[i].isspace() and not text[i - 1].isspace():
            return i
    return start
