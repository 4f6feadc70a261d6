"""The prediction engine: the Predictor facade (used by every front end through the service layer), its
incremental GRU state, the document memory, the adaptive mixing of the sources and the suggestion guard."""

from assistant.engine.predictor import Predictor

__all__ = ["Predictor"]
