"""Personal memory: a compact word unigram/bigram model over all of the user's documents, serving at once.

Counts are sums over paragraphs (bigrams never cross a paragraph), so the memory is a function of the multiset
of paragraphs of the documents: :meth:`PersonalMemory.sync` compares the documents of a store with what the
memory recorded (content hash per document, paragraph hashes per document) and adds or subtracts only the
paragraphs that changed. The file (``personal_memory.json.gz`` beside the store's documents folder) holds the
paragraph texts and the per-document hash lists with a format version; counts are rebuilt from them on load.
A damaged file, or one of another version, is rebuilt from the documents with a message; no document is touched.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import heapq
import itertools
import json
import logging
import re
import threading
import zlib
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.atomic import atomic_write_bytes
from assistant.text.words import words

if TYPE_CHECKING:
    from assistant.store.documents import DocumentStore
    from assistant.store.privacy import LearnFilter

FORMAT = "assistant-personal-memory"
VERSION = 1
FILE_NAME = "personal_memory.json.gz"
"""The memory's file, in the folder that holds the store's documents folder (``<user data>/``)."""

FOLLOWER_CACHE = 128
"""Previous words whose follower tables are kept ready for prefix queries."""

SCAN_LIMIT = 4000
"""Entries of a ranked list scanned for a prefix's top words (the masses are exact whatever this is)."""

_PARAGRAPH_RE = re.compile(r"\n[ \t\r\f\v]*\n\s*")

log = logging.getLogger(__name__)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``method`` holding the memory's lock: a sync after a save (a worker thread) never changes the counts
    while a keystroke's query (another thread) reads them."""

    @wraps(method)
    def run(self: PersonalMemory, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


@dataclass(frozen=True)
class MemoryAnswer:
    """A memory's answer for one cursor position."""

    words: dict[str, float]
    """Candidate words, each with ``P(word | prefix)`` under the memory."""
    mass: float
    """``P(next word starts with prefix)`` under the memory (0 when it knows no such word)."""


def capitalise(word: str) -> str:
    """``word`` with its first character upper case (what it looks like at a sentence start)."""
    return word[:1].upper() + word[1:]


def shape(word: str, sentence_start: bool) -> str:
    """How a remembered word is offered: capitalised at a sentence start, else as written."""
    return capitalise(word) if sentence_start else word


class MemoryFileError(ValueError):
    """The memory file cannot be used (damaged, or of another format version); the message says why."""


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text`` (split at blank lines) that hold at least one word."""
    return [p.strip() for p in _PARAGRAPH_RE.split(text) if words(p)]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass
class _Ranked:
    """A count table prepared for prefix queries."""

    by_word: list[str]
    """Words in code-point order."""
    cum: list[int]
    """``cum[i]``: total count of ``by_word[:i]``."""
    by_count: list[str]
    """Words by count, most frequent first."""
    total: int
    counts: Mapping[str, int]

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> _Ranked:
        by_word = sorted(counts)
        cum = [0, *itertools.accumulate(counts[w] for w in by_word)]
        return cls(by_word, cum, sorted(counts, key=counts.__getitem__, reverse=True), cum[-1], counts)

    def span(self, prefix: str) -> tuple[int, int]:
        """Positions in :attr:`by_word` of the words that start with ``prefix``."""
        lo = bisect.bisect_left(self.by_word, prefix)
        return lo, bisect.bisect_left(self.by_word, prefix + "\U0010ffff", lo)

    def mass(self, prefix: str) -> int:
        """Total count of the words that start with ``prefix``."""
        lo, hi = self.span(prefix)
        return self.cum[hi] - self.cum[lo]

    def top(self, prefix: str, k: int) -> list[str]:
        """The ``k`` most frequent words that start with ``prefix``."""
        if not prefix:
            return self.by_count[:k]
        lo, hi = self.span(prefix)
        if hi - lo <= 256 or hi - lo < len(self.by_word) // 50:
            return heapq.nlargest(k, self.by_word[lo:hi], key=self.counts.__getitem__)
        found = []
        for w in self.by_count[:SCAN_LIMIT]:  # dense enough: the first matches come soon
            if w.startswith(prefix):
                found.append(w)
                if len(found) >= k:
                    break
        return found


@dataclass(frozen=True)
class SyncReport:
    """What one :meth:`PersonalMemory.sync` changed."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    paragraphs_added: int = 0
    paragraphs_removed: int = 0

    @property
    def changes(self) -> bool:
        """Whether anything changed."""
        return bool(self.added or self.changed or self.removed)


class PersonalMemory:
    """Word unigram and bigram counts over a set of documents, updated paragraph by paragraph."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self.path = path
        """Where :meth:`save` writes (None: in memory only, e.g. ``eval --personal``)."""
        self.documents: dict[str, tuple[str, list[str]]] = {}
        """Document name -> (content hash, paragraph hashes in order)."""
        self._paragraphs: dict[str, list[Any]] = {}
        """Paragraph hash -> [text, how many documents' paragraphs have this text]."""
        self.unigrams: dict[str, int] = {}
        self.followers: dict[str, dict[str, int]] = {}
        """prev -> {next word -> count} (bigrams within paragraphs)."""
        self._follow_total: dict[str, int] = {}
        """prev -> how many bigrams start with it."""
        self.total = 0
        self.revision = 0
        """Bumped on every change (callers cache answers per revision)."""
        self._uni: _Ranked | None = None
        self._followers_ready: OrderedDict[str, _Ranked] = OrderedDict()

    # -- building -----------------------------------------------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: Mapping[str, str], path: Path | None = None) -> PersonalMemory:
        """A memory of these documents (name -> text)."""
        memory = cls(path)
        for name, text in texts.items():
            memory.set_document(name, text)
        return memory

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> PersonalMemory:
        """A memory (not saved anywhere) of text files and of every ``.txt`` file in folders."""
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
        return cls.from_texts(texts)

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
        memory = cls(path)
        if path.exists():
            try:
                memory = cls.load(path)
            except MemoryFileError as exc:
                say(f"{exc}; rebuilding it from the documents (they are not touched)")
                memory = cls(path)
        memory.sync(store, learn=learn)
        if not path.exists():
            memory.save()
        return memory

    @_locked
    def set_document(self, name: str, text: str, sha256: str | None = None) -> tuple[int, int]:
        """Make document ``name`` hold ``text``; returns (paragraphs added, paragraphs removed)."""
        sha = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
        old = self.documents.get(name)
        if old is not None and old[0] == sha:
            return 0, 0
        texts = {_hash(p): p for p in paragraphs(text)}
        new_hashes = [_hash(p) for p in paragraphs(text)]
        old_counts = Counter(old[1] if old else [])
        new_counts = Counter(new_hashes)
        gone = old_counts - new_counts
        came = new_counts - old_counts
        for h, k in gone.items():
            for _ in range(k):
                self._drop_paragraph(h)
        for h, k in came.items():
            for _ in range(k):
                self._add_paragraph(h, texts[h])
        self.documents[name] = (sha, new_hashes)
        self._changed()
        return sum(came.values()), sum(gone.values())

    @_locked
    def remove_document(self, name: str) -> int:
        """Forget document ``name``; returns the paragraphs removed."""
        old = self.documents.pop(name, None)
        if old is None:
            return 0
        for h in old[1]:
            self._drop_paragraph(h)
        self._changed()
        return len(old[1])

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
        written: the document memory follows it keystroke by keystroke) keep what was counted of them until
        they leave ``hold``."""
        report = SyncReport()
        mark = learn.fingerprint() if learn is not None else ""
        current = {d.name: d for d in store.list() if learn is None or learn.learns_document(d.name)}
        added = removed = 0
        for name in sorted(set(self.documents) - set(current)):
            removed += self.remove_document(name)
            report.removed.append(name)
        for name, doc in current.items():
            old = self.documents.get(name)
            if name in hold:
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
        report = SyncReport(report.added, report.changed, report.removed, added, removed)
        if report.changes and save and self.path is not None:
            self.save()
        return report

    def _add_paragraph(self, h: str, text: str) -> None:
        entry = self._paragraphs.get(h)
        if entry is None:
            entry = self._paragraphs[h] = [text, 0]
        entry[1] += 1
        self._count(text, +1)

    def _drop_paragraph(self, h: str) -> None:
        entry = self._paragraphs[h]
        self._count(entry[0], -1)
        entry[1] -= 1
        if entry[1] == 0:
            del self._paragraphs[h]

    def _count(self, text: str, sign: int) -> None:
        ws = words(text)
        self.total += sign * len(ws)
        uni, followers, totals = self.unigrams, self.followers, self._follow_total
        for w, k in Counter(ws).items():
            c = uni.get(w, 0) + sign * k
            if c:
                uni[w] = c
            else:
                del uni[w]
        for (a, b), k in Counter(itertools.pairwise(ws)).items():
            t = totals.get(a, 0) + sign * k
            if t:
                totals[a] = t
            else:
                del totals[a]
            f = followers.get(a)
            if f is None:
                f = followers[a] = {}
            c = f.get(b, 0) + sign * k
            if c:
                f[b] = c
            else:
                del f[b]
                if not f:
                    del followers[a]

    def _changed(self) -> None:
        self.revision += 1
        self._uni = None
        self._followers_ready.clear()

    # -- persistence --------------------------------------------------------------------------------------------
    @_locked
    def save(self, path: Path | None = None) -> None:
        """Write the memory atomically (gzip JSON with a format version)."""
        target = path or self.path
        if target is None:
            raise ValueError("this memory has no file to save to")
        data = {
            "format": FORMAT,
            "version": VERSION,
            "documents": {name: {"sha256": sha, "paragraphs": hs} for name, (sha, hs) in self.documents.items()},
            "paragraphs": {h: text for h, (text, _) in self._paragraphs.items()},
            "unigrams": self.unigrams,
            "followers": self.followers,
        }
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        atomic_write_bytes(target, gzip.compress(raw, compresslevel=1, mtime=0))

    @classmethod
    def load(cls, path: Path) -> PersonalMemory:
        """Read a memory file; :class:`MemoryFileError` when it is damaged or of another version."""
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
        memory = cls(path)
        try:
            texts: dict[str, str] = data["paragraphs"]
            refs: Counter[str] = Counter()
            for name, entry in data["documents"].items():
                hashes = [str(h) for h in entry["paragraphs"]]
                refs.update(hashes)
                memory.documents[str(name)] = (str(entry["sha256"]), hashes)
            memory._paragraphs = {h: [texts[h], k] for h, k in refs.items()}
            memory.unigrams = {str(w): int(c) for w, c in data["unigrams"].items()}
            memory.followers = data["followers"]
            memory._follow_total = {a: sum(f.values()) for a, f in memory.followers.items()}
            memory.total = sum(memory.unigrams.values())
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise MemoryFileError(f"personal memory {path} is damaged (missing or bad entry {exc})") from exc
        if len(texts) != len(memory._paragraphs):
            raise MemoryFileError(f"personal memory {path} is damaged (its paragraph table does not match)")
        memory._changed()
        return memory

    def state(self) -> tuple[dict[str, tuple[str, list[str]]], dict[str, int], dict[str, dict[str, int]]]:
        """Everything the memory knows, in plain containers (for comparisons)."""
        return dict(self.documents), dict(self.unigrams), {a: dict(f) for a, f in self.followers.items()}

    # -- queries ------------------------------------------------------------------------------------------------
    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.unigrams

    @_locked
    def probability(self, word: str, prev: str | None) -> float:
        """``P(word | prev)``: the bigram interpolated with the unigram (Witten-Bell weights)."""
        if not self.total:
            return 0.0
        uni = self.unigrams.get(word, 0) / self.total
        f = self.followers.get(prev) if prev is not None else None
        if not f:
            return uni
        total = self._follow_total[prev]  # type: ignore[index]
        trust = total / (total + len(f))
        return trust * f.get(word, 0) / total + (1 - trust) * uni

    @_locked
    def answer(self, prev: str | None, prefix: str, sentence_start: bool, k: int) -> MemoryAnswer:
        """The ``k`` likeliest words starting with ``prefix`` after ``prev``, with the prefix's mass."""
        if not self.total:
            return MemoryAnswer({}, 0.0)
        if self._uni is None:
            self._uni = _Ranked.of(self.unigrams)
        starts = [prefix]
        if sentence_start and prefix and prefix[0].lower() != prefix[0]:
            starts.append(prefix[0].lower() + prefix[1:])
        elif sentence_start and not prefix:
            starts = [""]
        f = self.followers.get(prev) if prev is not None else None
        tables = [(self._uni, 1.0)]
        trust = 0.0
        if f:
            ranked = self._ranked_followers(prev)  # type: ignore[arg-type]
            trust = ranked.total / (ranked.total + len(f))
            tables = [(ranked, trust), (self._uni, 1.0 - trust)]
        mass = 0.0
        pool: set[str] = set()
        for table, weight in tables:
            for s in starts:
                mass += weight * table.mass(s) / table.total
                pool.update(table.top(s, k))
        if mass <= 0 or not pool:
            return MemoryAnswer({}, 0.0)
        probs: dict[str, float] = defaultdict(float)
        for w in pool:
            probs[shape(w, sentence_start)] += self.probability(w, prev)
        top = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[:k]
        return MemoryAnswer({w: min(1.0, p / mass) for w, p in top}, min(1.0, mass))

    @_locked
    def vocabulary(self, limit: int | None = None) -> list[tuple[str, int]]:
        """The learned words with their counts, most frequent first (then alphabetically); ``limit`` keeps the
        first ones."""
        ranked = sorted(self.unigrams.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked if limit is None else ranked[:limit]

    @_locked
    def word_documents(self, word: str) -> list[str]:
        """The documents (sorted names) whose learned paragraphs hold ``word`` (as counted: same case)."""
        holding = {h for h, (text, _) in self._paragraphs.items() if word in words(text)}
        return sorted(name for name, (_, hashes) in self.documents.items() if holding.intersection(hashes))

    def _ranked_followers(self, prev: str) -> _Ranked:
        ready = self._followers_ready.get(prev)
        if ready is None:
            ready = _Ranked.of(self.followers[prev])
            self._followers_ready[prev] = ready
            if len(self._followers_ready) > FOLLOWER_CACHE:
                self._followers_ready.popitem(last=False)
        else:
            self._followers_ready.move_to_end(prev)
        return ready

    def __len__(self) -> int:
        return self.total
