"""The service layer: every front end (app, language server, command line, ``eval``, chat bot) goes through it.

- :mod:`assistant.personal.models`: the model provider (active, base or a folder; quantised once; shared) and
  :func:`~assistant.personal.models.make_predictor`, the one place a :class:`Predictor` is built.
- :mod:`assistant.personal.finetune`: one personal fine-tune run (documents, journal) and its background jobs.
- :mod:`assistant.personal.outcome`: what a finished fine-tune is reported as, for each front end.
- :mod:`assistant.personal.space`: a user's space: one document store, model registry and predictors.
- :mod:`assistant.personal.memory`: the personal memory: the engine's word counts fed by the store's ledger.
- :mod:`assistant.personal.users`: many users' spaces (the chat bot's), with a predictor cache and jobs.
"""

from assistant.decode.generate import Generation, GenerationConfig
from assistant.engine.predictor import PhraseSettings, Predictor, Suggestions
from assistant.text.words import count_words, partial_word

__all__ = [
    "Generation",
    "GenerationConfig",
    "PhraseSettings",
    "Predictor",
    "Suggestions",
    "count_words",
    "partial_word",
]
"""The engine's types a front end handles, so front ends import them from here."""
