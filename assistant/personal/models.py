"""The model provider: which model answers (the active personal one, the base one or a folder), loaded and
quantised once, shared by every predictor that runs it; and :func:`make_predictor`, the one place a
:class:`Predictor` is built."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from assistant.engine.dynamic import DynamicSettings
from assistant.engine.guard import SuggestionGuard
from assistant.engine.ngramsource import NgramSource
from assistant.engine.predictor import PhraseSettings, Predictor
from assistant.lm.io import LoadedModel, ModelLoadError, load_model
from assistant.lm.model import GRULanguageModel
from assistant.lm.quantize import quantize_for_inference
from assistant.personal.memory import PersonalMemory
from assistant.shipped import base_model_dir
from assistant.store.models import BASE, ModelRegistry

__all__ = [
    "BASE",
    "PERSONAL",
    "Model",
    "ModelLoadError",
    "ModelProvider",
    "make_predictor",
    "use_threads",
]

PERSONAL = "personal"
"""The choice of the active personal model (which falls back along its parents to the base model)."""
DYNAMIC = DynamicSettings()
"""The dynamic evaluation every adaptive predictor gets (its constants: ``docs/benchmarks.md``)."""


def use_threads(n: int = 1) -> None:
    """Run torch on ``n`` threads in this process (1 while the person types: one core answers a keystroke)."""
    torch.set_num_threads(n)


@dataclass(frozen=True)
class Model:
    """A loaded model and the network predictors run (int8 on CPU unless asked for float); stateless, so one
    copy serves any number of predictors."""

    lm: LoadedModel
    network: GRULanguageModel
    """The inference copy every predictor of this model shares."""
    name: str
    """What was loaded, for messages: ``base``, a personal version, or a folder."""
    warning: str = ""
    """What could not be used on the way ('' if nothing)."""


def make_predictor(
    model: Model,
    phrase_settings: PhraseSettings | None = None,
    personal: PersonalMemory | None = None,
    adaptive: bool = True,
    guard: SuggestionGuard | None = None,
    dynamic: DynamicSettings | None = DYNAMIC,
) -> Predictor:
    """A predictor with its own incremental state over ``model``'s shared network. Every front end gets its
    predictors here, so whatever a predictor needs besides the model is wired in one place: the user's
    ``personal`` memory, and the document memory and adaptive mixing unless ``adaptive`` is off (the bare model);
    ``guard`` (the user's privacy controls) checks every answer before it is shown; the general n-gram shipped
    beside the base model (``models/base/ngram/``, if there) is one more source of the mixing; the network's
    output layer learns the document (``dynamic``) whenever the front end gives the predictor time to
    (``Predictor.learn``: the app between keystrokes)."""
    return Predictor(
        model.lm,
        phrase_settings=phrase_settings,
        model=model.network,
        personal=personal,
        adaptive=adaptive,
        guard=guard.apply if guard is not None else None,
        ngram=general_ngram(model.lm) if adaptive else None,
        dynamic=dynamic if adaptive else None,
    )


def general_ngram(lm: LoadedModel) -> NgramSource | None:
    """The general n-gram for ``lm``: the one in its own folder, else the shipped base model's when ``lm`` is
    that model or a fine-tune of it (the same tokenizer); None for any other model (a test's tiny one)."""
    own = NgramSource.shared(lm.path)
    if own is not None:
        return own
    base = base_model_dir()
    theirs = lm.meta.get("tokenizer")
    same = isinstance(theirs, dict) and theirs.get("sha256") is not None and theirs["sha256"] == _tokenizer_hash(base)
    return NgramSource.shared(base) if same else None


@functools.cache
def _tokenizer_hash(model_dir: Path) -> str | None:
    """The tokenizer hash in a model folder's ``config.json`` (None when unreadable)."""
    try:
        return json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["tokenizer"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _inference(lm: LoadedModel, name: str, quantize: bool, warning: str = "") -> Model:
    return Model(lm, quantize_for_inference(lm.model) if quantize else lm.model, name, warning)


class ModelProvider:
    """Loads models for one process: the base model once per folder (shared by every user on it), personal
    versions and folders on request. Thread-safe."""

    def __init__(self, quantize: bool = True) -> None:
        self.quantize = quantize
        """Whether predictors run an int8 copy on CPU (``eval --float`` turns it off)."""
        self._base: dict[Path, Model] = {}
        self._lock = threading.Lock()

    def base(self, base_dir: Path) -> Model:
        """The base model in ``base_dir``, loaded and quantised once."""
        key = base_dir.resolve()
        with self._lock:
            if key not in self._base:
                self._base[key] = _inference(load_model(key), BASE, self.quantize)
            return self._base[key]

    def folder(self, folder: Path) -> Model:
        """The model in ``folder`` (ModelLoadError or OSError when it cannot be loaded)."""
        return _inference(load_model(folder), str(folder), self.quantize)

    def active(self, registry: ModelRegistry) -> Model:
        """The registry's active version; a damaged one falls back along its parents to the base model, and
        :attr:`Model.warning` says so."""
        if registry.active_name() == BASE:  # a damaged ``active`` file too: say so
            return _with_warning(self.base(registry.base_dir), registry.pointer_problem())
        active = registry.active()
        if active.version == BASE:
            return _with_warning(self.base(registry.base_dir), active.warning)
        return _inference(active.model, active.version, self.quantize, active.warning)


def _with_warning(model: Model, warning: str) -> Model:
    return Model(model.lm, model.network, model.name, warning) if warning else model
