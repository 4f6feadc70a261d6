"""The service layer: every front end (app, language server, command line, ``eval``, chat bot) goes through it.

- :mod:`assistant.personal.space`: one user's space: their document store, model registry, personal memory,
  privacy (the one learn filter and suggestion guard, handed to everything below), private mode, predictors and
  fine-tune; it notices when another process makes another model version active.
- :mod:`assistant.personal.memory`: the personal memory: the engine's word counts fed by the store's ledger.
- :mod:`assistant.personal.users`: many users' spaces (the chat bot's), with a predictor cache and their fine-tunes.
- :mod:`assistant.personal.models`: the model provider (active, base or a folder; quantised once; shared) and
  :func:`~assistant.personal.models.make_predictor`, the one place a :class:`Predictor` is built.
- :mod:`assistant.personal.finetune`: a personal fine-tune over a user's documents, run now, in a thread or in a
  child process (the training itself is :mod:`assistant.train.finetune`).
- :mod:`assistant.personal.outcome`: what a finished fine-tune is reported as, for each front end.
- :mod:`assistant.personal.evaluation`: ``assistant eval`` over a model and an optional personal memory.

The engine's types a front end handles are re-exported here, so front ends import them from this package.
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
