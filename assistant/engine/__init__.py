"""The predictor facade used by the CLI, the app, the language server and the bot plugin."""

from assistant.engine.predictor import Predictor

__all__ = ["Predictor"]
