"""The GRU language model and its safetensors + JSON files."""

from assistant.lm.io import LoadedModel, ModelLoadError, load_model, read_config, save_model
from assistant.lm.model import GRUConfig, GRULanguageModel

__all__ = [
    "GRUConfig",
    "GRULanguageModel",
    "LoadedModel",
    "ModelLoadError",
    "load_model",
    "read_config",
    "save_model",
]
