"""The personal memory's ledger: which paragraphs of which documents it counts, its file, its sync with the store.

Counts are sums over paragraphs, so the memory is a function of the multiset of paragraphs of the documents:
:meth:`MemoryLedger.sync` compares the documents of a store with what the ledger recorded (content hash per
document, paragraph hashes per document) and hands only the paragraphs that changed to the counter it serves
(a :class:`ParagraphCounter`, the engine's word memory; the service layer joins the two). The file
(``personal_memory.json.gz`` beside the store's documents folder) holds the paragraph texts and the per-document
hash lists with a format version; counts are rebuilt from them on load. A damaged file, or one of another
version, is rebuilt from the documents with a message; no document is touched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.atomic import atomic_write_bytes
from assistant.text.paragraphs import paragraph_hash, paragraphs
from assistant.text.words import words

if TYPE_CHECKING:
    from assistant.store.documents import DocumentStore
    from assistant.store.privacy import LearnFilter

FORMAT = "assistant-personal-memory"
VERSION = 2
"""2: paragraphs and documents only (counts are rebuilt on load); 1 also held bigram counts."""
FILE_NAME = "personal_memory.json.gz"
"""The memory's file, in the folder that holds the store's documents folder (``<user data>/``)."""

log = logging.getLogger(__name__)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` holding the ledger's lock (a sync in a worker thread, a save from another)."""

    @wraps(method)
    def run(self: MemoryLedger, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


class ParagraphCounter(Protocol):
    """What the ledger feeds: a memory that counts paragraphs."""

    def change(self, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        """Count the paragraphs ``added``; stop counting those ``removed``."""


class MemoryFileError(ValueError):
    """The memory file cannot be used (damaged, or of another format version); the message says why."""


@dataclass(frozen=True)
class SyncReport:
    """What one :meth:`MemoryLedger.sync` changed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    paragraphs_added: int = 0
    paragraphs_removed: int = 0

    @property
    def changes(self) -> bool:
        """Whether anything changed."""
        return bool(self.added or self.changed or self.removed)


class MemoryLedger:
    """Per document its content hash and paragraph hashes, per paragraph its text; what changes is handed to
    ``counter``."""

    def __init__(self, path: Path | None = None, counter: ParagraphCounter | None = None) -> None:
        self._lock = threading.RLock()
        self.path = path
        """Where :meth:`save` writes (None: in memory only, e.g. ``eval --personal``)."""
        self.counter = counter
        """The memory that counts the paragraphs (None: the ledger alone)."""
        self.documents: dict[str, tuple[str, list[str]]] = {}
        """Document name -> (content hash, paragraph hashes in order)."""
        self._paragraphs: dict[str, list[Any]] = {}
        """Paragraph hash -> [text, how many documents' paragraphs have this text]."""
        self._pending: tuple[list[str], list[str]] | None = None
        """Changes collected during a sync, handed over at its end."""
        self._held: dict[str, list[str]] = {}
        """Documents held out of the counter (open in an editor) -> their counted paragraphs, handed back to the
        counter when they are released."""

    # -- building -----------------------------------------------------------------------------------------------
    @staticmethod
    def read_files(paths: Iterable[Path]) -> dict[str, str]:
        """The texts (name -> text) of text files and of every ``.txt`` file in folders."""
        from assistant.store.textfile import TEXT_SUFFIXES, NotText, decode_document

        texts: dict[str, str] = {}
        for path in paths:
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
                if not files:
                    raise ValueError(f"{path} holds no text files")
            elif path.is_file():
                files = [path]
            else:
                raise ValueError(f"no such file or folder: {path}")
            for f in files:
                try:
                    texts[str(f)] = decode_document(f.read_bytes()).text
                except (OSError, NotText) as exc:
                    raise ValueError(f"cannot read {f} as text: {exc}") from exc
        return texts

    @_locked
    def set_document(self, name: str, text: str, sha256: str | None = None) -> tuple[int, int]:
        """Make document ``name`` hold ``text``; returns (paragraphs added, paragraphs removed)."""
        sha = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._release(name)
        old = self.documents.get(name)
        if old is not None and old[0] == sha:
            return 0, 0
        parts = paragraphs(text)
        texts = {paragraph_hash(p): p for p in parts}
        new_hashes = [paragraph_hash(p) for p in parts]
        old_counts = Counter(old[1] if old else [])
        new_counts = Counter(new_hashes)
        gone = old_counts - new_counts
        came = new_counts - old_counts
        removed = [self._drop_paragraph(h) for h, k in gone.items() for _ in range(k)]
        added = [self._add_paragraph(h, texts[h]) for h, k in came.items() for _ in range(k)]
        self.documents[name] = (sha, new_hashes)
        self._feed(added, removed)
        return len(added), len(removed)

    @_locked
    def remove_document(self, name: str) -> int:
        """Forget document ``name``; returns the paragraphs removed."""
        old = self.documents.pop(name, None)
        if old is None:
            return 0
        removed = [self._drop_paragraph(h) for h in old[1]]
        if self._held.pop(name, None) is None:
            self._feed((), removed)
        return len(removed)

    @_locked
    def hold(self, name: str) -> None:
        """Take document ``name``'s counted paragraphs out of the counter until :meth:`release` (the ledger keeps
        them: the file and a later sync are unchanged)."""
        if name in self._held or name not in self.documents:
            return
        paragraphs = self.document_paragraphs(name)
        self._held[name] = paragraphs
        self._feed((), paragraphs)

    @_locked
    def _release(self, name: str) -> None:
        paragraphs = self._held.pop(name, None)
        if paragraphs is not None:
            self._feed(paragraphs, ())

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Collect the changes made inside and hand them to the counter as one batch at the end."""
        with self._lock:
            if self._pending is not None:  # already collecting
                yield
                return
            self._pending = ([], [])
            try:
                yield
            finally:
                added, removed = self._pending
                self._pending = None
                self._feed(added, removed)

    def _feed(self, added: Iterable[str], removed: Iterable[str]) -> None:
        """Hand a change to the counter (at the end of a sync: one batch for all its documents)."""
        if self._pending is not None:
            self._pending[0].extend(added)
            self._pending[1].extend(removed)
        elif self.counter is not None:
            self.counter.change(added, removed)

    @_locked
    def texts(self) -> list[str]:
        """Every counted paragraph, as often as documents hold it."""
        return [text for text, k in self._paragraphs.values() for _ in range(k)]

    @_locked
    def document_paragraphs(self, name: str) -> list[str]:
        """The counted paragraphs of document ``name`` (none when it is not counted)."""
        entry = self.documents.get(name)
        return [self._paragraphs[h][0] for h in entry[1]] if entry is not None else []

    @_locked
    def sync(
        self,
        store: DocumentStore,
        save: bool = True,
        learn: LearnFilter | None = None,
        hold: Collection[str] = (),
    ) -> SyncReport:
        """Apply what changed in ``store`` since the last sync (only changed paragraphs), then save (unless
        ``save`` is false: the caller saves later, e.g. when the app closes).

        ``learn`` (the user's privacy controls) decides what is counted: documents marked "do not learn" are
        left out, forgotten words' paragraphs and secrets removed. A change of the controls re-applies every
        document (its recorded hash carries the controls' fingerprint). Documents in ``hold`` (the one being
        written: the document memory follows it keystroke by keystroke) are held out of the counter, their saved
        text neither counted again nor answering (the document memory covers them: counting both would count
        the open document twice, and a typo fixed in the editor would still speak from the saved version),
        until they leave ``hold``; then they are counted as saved."""
        with self.batched():
            report = self._sync(store, learn, hold)
        if report.changes and save and self.path is not None:
            self.save()
        return report

    def _sync(self, store: DocumentStore, learn: LearnFilter | None, hold: Collection[str]) -> SyncReport:
        report = SyncReport()
        mark = learn.fingerprint() if learn is not None else ""
        current = {d.name: d for d in store.list() if learn is None or learn.learns_document(d.name)}
        added = removed = 0
        for name in [n for n in self._held if n not in hold]:
            self._release(name)
        for name in sorted(set(self.documents) - set(current)):
            removed += self.remove_document(name)
            report.removed.append(name)
        for name, doc in current.items():
            old = self.documents.get(name)
            if name in hold:
                self.hold(name)
                continue
            key = f"{doc.sha256}:{mark}" if mark else doc.sha256
            if old is not None and old[0] == key:
                continue
            try:
                text = store.read(name)
            except (OSError, KeyError, UnicodeDecodeError) as exc:
                log.warning("personal memory: cannot read document %r (%s); skipped", name, exc)
                continue
            a, r = self.set_document(name, learn.text(text) if learn is not None else text, key)
            added, removed = added + a, removed + r
            (report.changed if old is not None else report.added).append(name)
        return SyncReport(report.added, report.changed, report.removed, added, removed)

    def _add_paragraph(self, h: str, text: str) -> str:
        entry = self._paragraphs.get(h)
        if entry is None:
            entry = self._paragraphs[h] = [text, 0]
        entry[1] += 1
        return text

    def _drop_paragraph(self, h: str) -> str:
        entry = self._paragraphs[h]
        entry[1] -= 1
        if entry[1] == 0:
            del self._paragraphs[h]
        return entry[0]

    # -- persistence --------------------------------------------------------------------------------------------
    @_locked
    def save(self, path: Path | None = None) -> None:
        """Write the ledger atomically (gzip JSON with a format version)."""
        target = path or self.path
        if target is None:
            raise ValueError("this memory has no file to save to")
        data = {
            "format": FORMAT,
            "version": VERSION,
            "documents": {name: {"sha256": sha, "paragraphs": hs} for name, (sha, hs) in self.documents.items()},
            "paragraphs": {h: text for h, (text, _) in self._paragraphs.items()},
        }
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        atomic_write_bytes(target, gzip.compress(raw, compresslevel=1, mtime=0))

    @_locked
    def load(self, path: Path) -> None:
        """Read a memory file into this (empty) ledger and hand its paragraphs to the counter;
        :class:`MemoryFileError` when it is damaged or of another version (then nothing changed)."""
        try:
            data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MemoryFileError(f"personal memory {path} is damaged ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise MemoryFileError(f"personal memory {path} is not a memory file")
        if data.get("version") != VERSION:
            raise MemoryFileError(
                f"personal memory {path} has format version {data.get('version')!r}, this program reads {VERSION}"
            )
        documents: dict[str, tuple[str, list[str]]] = {}
        try:
            texts: dict[str, str] = data["paragraphs"]
            refs: Counter[str] = Counter()
            for name, entry in data["documents"].items():
                hashes = [str(h) for h in entry["paragraphs"]]
                refs.update(hashes)
                documents[str(name)] = (str(entry["sha256"]), hashes)
            table = {h: [str(texts[h]), k] for h, k in refs.items()}
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MemoryFileError(f"personal memory {path} is damaged (missing or bad entry {exc})") from exc
        if len(texts) != len(table):
            raise MemoryFileError(f"personal memory {path} is damaged (its paragraph table does not match)")
        self.path = path
        self.documents, self._paragraphs = documents, table
        if self.counter is not None:
            self.counter.change(self.texts(), ())

    @_locked
    def word_documents(self, word: str) -> list[str]:
        """The documents (sorted names) whose learned paragraphs hold ``word`` (as counted: same case)."""
        holding = {h for h, (text, _) in self._paragraphs.items() if word in words(text)}
        return sorted(name for name, (_, hashes) in self.documents.items() if holding.intersection(hashes))
