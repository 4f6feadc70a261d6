"""The predictor behind the app, shared by worker threads: one answer at a time, swappable for a new model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from assistant.personal import PhraseSettings, Predictor, Suggestions
from assistant.personal.models import use_threads
from assistant.personal.space import UserSpace


@dataclass(frozen=True)
class LoadedPredictor:
    """A predictor with the name of the model version it runs and a warning from loading it ('' if none)."""

    predictor: Predictor
    version: str
    warning: str = ""


def load_active(space: UserSpace, phrase_threshold: float) -> LoadedPredictor:
    """The active personal model (or the base model) ready to answer keystrokes (int8, one thread)."""
    use_threads(1)
    model = space.model()
    predictor = space.predictor(model, PhraseSettings(phrase_threshold=phrase_threshold))
    notices, space.notices[:] = list(space.notices), []  # e.g. a damaged memory file that was rebuilt
    return LoadedPredictor(predictor, model.name, "; ".join(filter(None, [model.warning, *notices])))


class SuggestionService:
    """Serialises predictor calls from Textual's thread workers; a worker cancelled while waiting skips its turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: LoadedPredictor | None = None

    @property
    def ready(self) -> bool:
        """True once a model is loaded."""
        return self._loaded is not None

    @property
    def version(self) -> str:
        """The model version answering ('' before one is loaded)."""
        return self._loaded.version if self._loaded else ""

    def install(self, loaded: LoadedPredictor) -> None:
        """Answer with ``loaded`` from the next request on (a request in progress finishes on the old one)."""
        with self._lock:
            self._loaded = loaded

    def set_phrase_threshold(self, threshold: float) -> None:
        """Change how confident the ghost phrase must be."""
        with self._lock:
            if self._loaded is not None:
                self._loaded.predictor.phrase_settings = PhraseSettings(phrase_threshold=threshold)

    def suggest(
        self, text_before_cursor: str, n: int, phrase: bool, cancelled: Callable[[], bool]
    ) -> Suggestions | None:
        """Suggestions for the text, or None when not ready or cancelled before its turn came."""
        with self._lock:
            if self._loaded is None or cancelled():
                return None
            return self._loaded.predictor.suggest(text_before_cursor, n=n, phrase=phrase)
