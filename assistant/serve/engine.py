"""The model the server runs, loaded once and shared by the predictors of all open documents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.engine.predictor import PhraseSettings, Predictor
from assistant.lm.io import LoadedModel, ModelLoadError, load_model
from assistant.lm.model import GRULanguageModel
from assistant.lm.quantize import quantize_for_inference
from assistant.serve.options import BASE, PERSONAL
from assistant.shipped import base_model_dir
from assistant.store.models import ModelRegistry


@dataclass(frozen=True)
class Engine:
    """One loaded model and its inference copy (int8 on CPU); each document gets its own :class:`Predictor`."""

    lm: LoadedModel
    network: GRULanguageModel
    """The network every predictor runs (stateless, so one copy serves all documents)."""
    name: str
    """What was loaded, for messages: ``base``, a personal version, or a folder."""
    phrase: PhraseSettings

    def predictor(self) -> Predictor:
        """A predictor with its own incremental state over the shared network."""
        return Predictor(self.lm, phrase=self.phrase, model=self.network)


def load_engine(choice: str, phrase: PhraseSettings) -> tuple[Engine, list[str]]:
    """The model named by the ``model`` option and warnings about what could not be used.

    ``personal`` is the active personal model (falling back along its parents to the base model), ``base`` the
    shipped base model, anything else a model folder; a folder that cannot be loaded falls back to ``personal``.
    """
    warnings: list[str] = []
    lm: LoadedModel | None = None
    name = choice
    if choice == BASE:
        lm = load_model(base_model_dir())
    elif choice != PERSONAL:
        folder = Path(choice).expanduser()
        try:
            lm = load_model(folder)
            name = str(folder)
        except (ModelLoadError, OSError) as exc:
            warnings.append(f"model folder {str(folder)!r} cannot be loaded ({exc}); using the personal model")
    if lm is None:
        active = ModelRegistry.default().active()
        if active.warning:
            warnings.append(active.warning)
        lm, name = active.model, active.version
    return Engine(lm, quantize_for_inference(lm.model), name, phrase), warnings
