"""The word memories: what the writer's text has shown, counted and answered at every keystroke.

- :mod:`~assistant.engine.memory.answer`: the answer type both memories give, and how a word is shaped.
- :mod:`~assistant.engine.memory.document`: the memory of the text before the cursor (incremental per word).
- :mod:`~assistant.engine.memory.personal`: the memory of all of the writer's documents, counted by paragraph.

What the personal memory counts (which documents, which paragraphs, its file, its sync with the documents) is
kept by the store (:mod:`assistant.store.memory`); the service layer joins the two.
"""

from assistant.engine.memory.answer import NO_ANSWER, MemoryAnswer, capitalise, shape
from assistant.engine.memory.document import DocMemorySettings, DocumentMemory
from assistant.engine.memory.personal import PersonalWords

__all__ = [
    "NO_ANSWER",
    "DocMemorySettings",
    "DocumentMemory",
    "MemoryAnswer",
    "PersonalWords",
    "capitalise",
    "shape",
]
