"""What the assistant knows of a user's words, in one answer for every front end (``assistant vocab``, the app's
Vocabulary screen): learned words, blocked, forgotten, rejected suggestions and documents kept out of learning."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.personal.memory import FILE_NAME, MemoryFileError, PersonalMemory
from assistant.personal.space import UserSpace


@dataclass(frozen=True)
class LearnedWord:
    """A word of the personal memory."""

    word: str
    count: int
    """How often the user's documents use it."""
    last_seen: float | None
    """Newest modification time (epoch seconds) of the documents holding it (None if unknown)."""
    documents: list[str]
    """The documents (sorted names) holding it."""


@dataclass(frozen=True)
class Vocabulary:
    """The user's words as learning sees them, read now."""

    learned: list[LearnedWord] = field(default_factory=list)
    """The most used learned words, most used first."""
    blocked: list[str] = field(default_factory=list)
    """Blocked words and phrases (never suggested), as the controls hold them (case-folded)."""
    forgotten: list[str] = field(default_factory=list)
    """Forgotten words (their paragraphs are left out of learning)."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Rejected suggestions, spelled as they were offered, and how often each was rejected."""
    no_learn: list[str] = field(default_factory=list)
    """Documents kept out of learning."""


def vocabulary(space: UserSpace, top: int = 40) -> Vocabulary:
    """The user's vocabulary: the learned words of every saved document (as a fresh ``assistant vocab`` counts
    them, also while a window holds a document open), then what the privacy controls hold. Writes nothing."""
    controls = space.controls()
    return Vocabulary(
        learned=_learned(space, top),
        blocked=controls.blocked(),
        forgotten=controls.forgotten(),
        rejected=controls.rejections_as_offered(),
        no_learn=controls.no_learn(),
    )


def _saved_memory(space: UserSpace) -> PersonalMemory | None:
    """The personal memory of the saved documents. The space's own memory when no document is held open;
    else (the open document's saved text is not counted until it is closed) a copy read from the memory's file
    and brought up to date with the store, never written."""
    memory = space.memory()
    if memory is None or not space.editing:
        return memory
    copy = PersonalMemory(None)
    path = space.store.root.parent / FILE_NAME
    if path.exists():
        try:
            copy = PersonalMemory.load(path)
        except MemoryFileError:
            copy = PersonalMemory(None)
    copy.sync(space.store, save=False, learn=space.learn_filter())
    return copy


def _learned(space: UserSpace, top: int) -> list[LearnedWord]:
    memory = _saved_memory(space)
    if memory is None:
        return []
    modified = {d.name: d.modified for d in space.store.list()}
    learned = []
    for word, count in memory.vocabulary(top):
        docs = memory.word_documents(word)
        last = max((modified[d] for d in docs if d in modified), default=None)
        learned.append(LearnedWord(word, count, last, docs))
    return learned
