"""The user's personal memory: the engine's word counts (:class:`PersonalWords`) fed by the store's ledger
(:class:`MemoryLedger`: documents, paragraphs, file, sync). The one place the two meet."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.engine.memory import PersonalWords
from assistant.store.memory import FILE_NAME, MemoryFileError, MemoryLedger, SyncReport

if TYPE_CHECKING:
    from assistant.store.documents import DocumentStore
    from assistant.store.privacy import LearnFilter

log = logging.getLogger(__name__)

__all__ = ["FILE_NAME", "MemoryFileError", "PersonalMemory", "SyncReport"]


class PersonalMemory(PersonalWords):
    """The word memory of a set of documents, kept by a ledger (and its file, when it has a path)."""

    def __init__(self, path: Path | None = None, background: bool = False) -> None:
        super().__init__(background=background)
        self.ledger = MemoryLedger(path, self)
        """Which paragraphs of which documents are counted; the file."""

    # -- building -----------------------------------------------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: Mapping[str, str], path: Path | None = None) -> PersonalMemory:
        """A memory of these documents (name -> text)."""
        memory = cls(path)
        with memory.ledger.batched():
            for name, text in texts.items():
                memory.set_document(name, text)
        return memory

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> PersonalMemory:
        """A memory (not saved anywhere) of text files and of every ``.txt`` file in folders."""
        return cls.from_texts(MemoryLedger.read_files(paths))

    @classmethod
    def load(cls, path: Path, background: bool = False) -> PersonalMemory:
        """Read a memory file; :class:`MemoryFileError` when it is damaged or of another version."""
        memory = cls(path, background)
        memory.ledger.load(path)
        return memory

    @classmethod
    def for_store(
        cls,
        store: DocumentStore,
        notify: Callable[[str], None] | None = None,
        learn: LearnFilter | None = None,
    ) -> PersonalMemory:
        """The memory of ``store``'s documents, loaded from its file and synced (rebuilt with a message through
        ``notify`` when the file is damaged or of another version); ``learn`` says what may be learned."""
        path = store.root.parent / FILE_NAME
        say = notify or log.warning
        memory = cls(path, background=True)
        if path.exists():
            try:
                memory = cls.load(path, background=True)
            except MemoryFileError as exc:
                say(f"{exc}; rebuilding it from the documents (they are not touched)")
                memory = cls(path, background=True)
        memory.sync(store, learn=learn)
        if not path.exists():
            memory.save()
        return memory

    # -- the ledger's side --------------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """Where :meth:`save` writes (None: in memory only, e.g. ``eval --personal``)."""
        return self.ledger.path

    @property
    def documents(self) -> dict[str, tuple[str, list[str]]]:
        """Document name -> (content hash, paragraph hashes in order)."""
        return self.ledger.documents

    def set_document(self, name: str, text: str, sha256: str | None = None) -> tuple[int, int]:
        """Make document ``name`` hold ``text``; returns (paragraphs added, paragraphs removed)."""
        return self.ledger.set_document(name, text, sha256)

    def remove_document(self, name: str) -> int:
        """Forget document ``name``; returns the paragraphs removed."""
        return self.ledger.remove_document(name)

    def sync(
        self,
        store: DocumentStore,
        save: bool = True,
        learn: LearnFilter | None = None,
        hold: Collection[str] = (),
    ) -> SyncReport:
        """See :meth:`MemoryLedger.sync`."""
        return self.ledger.sync(store, save, learn, hold)

    def save(self, path: Path | None = None) -> None:
        """Write the memory's file atomically."""
        self.ledger.save(path)

    def word_documents(self, word: str) -> list[str]:
        """The documents (sorted names) whose learned paragraphs hold ``word`` (as counted: same case)."""
        return self.ledger.word_documents(word)

    def state(self) -> tuple[dict[str, tuple[str, list[str]]], dict[str, int], dict[str, int]]:
        """Everything the memory knows, in plain containers (for comparisons)."""
        return dict(self.documents), self.unigrams, dict(self.paragraphs())
