"""The user's documents: plain UTF-8 files in one folder plus a JSON manifest, guarded by a file lock.

Every write is atomic (temporary file, fsync, rename), files are private to the user (0600, folders 0700), and
the manifest records each document's content hash, size and times, and which model version has seen which
content (for incremental fine-tuning).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.atomic import atomic_write_text
from assistant.store.textfile import TEXT_SUFFIXES, NotText, read_document

MANIFEST = "manifest.json"
LOCK_TIMEOUT_S = 30.0


class StoreError(RuntimeError):
    """The store is locked by another process, or its manifest is unreadable."""


@dataclass
class Document:
    """One document in the store."""

    name: str
    """Unique display name, also the file name under the documents folder."""
    sha256: str
    size: int
    """Bytes of its UTF-8 text."""
    created: float
    modified: float
    source: str = ""
    """Where it was imported from ('' when written in the app)."""
    seen_by: dict[str, str] = field(default_factory=dict)
    """Model version -> the content hash that version was trained on."""


@dataclass(frozen=True)
class ImportResult:
    """What happened to one file of an import."""

    path: Path
    status: str
    """``imported``, ``duplicate`` or ``refused``."""
    detail: str = ""
    """The document's name, the document it duplicates, or why it was refused."""


def _now() -> float:
    return time.time()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_UNSAFE = re.compile(r"[^\w .,()+\-]+")


def safe_name(name: str) -> str:
    """A file name from a display name: no separators or control characters, not hidden, not empty."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned[:120] or "untitled"


class DocumentStore:
    """Documents under ``root`` (normally ``<user data>/documents``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in (root.parent, root):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)
        self._lock = FileLock(str(root / ".lock"), timeout=LOCK_TIMEOUT_S, mode=0o600)

    @classmethod
    def default(cls) -> DocumentStore:
        """The user's store (``Paths.default().documents``)."""
        from assistant.store.paths import Paths

        return cls(Paths.default().documents)

    @contextmanager
    def locked(self) -> Iterator[dict[str, Document]]:
        """Hold the store lock; yields the manifest, written back atomically when the block ends cleanly."""
        try:
            with self._lock:
                docs = self._read()
                before = json.dumps(self._encode(docs), sort_keys=True)
                yield docs
                after = self._encode(docs)
                if json.dumps(after, sort_keys=True) != before:
                    atomic_write_text(self.root / MANIFEST, json.dumps(after, indent=1, ensure_ascii=False))
        except Timeout as exc:
            raise StoreError(
                f"{self.root} is locked by another assistant process (waited {LOCK_TIMEOUT_S:.0f} s)"
            ) from exc

    def _read(self) -> dict[str, Document]:
        path = self.root / MANIFEST
        if not path.is_file():
            return {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return {d["name"]: Document(**d) for d in raw.get("documents", [])}
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError) as exc:
            raise StoreError(f"{path} is damaged ({exc}); the documents themselves are intact in {self.root}") from exc

    @staticmethod
    def _encode(docs: dict[str, Document]) -> dict[str, Any]:
        return {"version": 1, "documents": [asdict(d) for d in sorted(docs.values(), key=lambda d: d.name)]}

    # -- queries ----------------------------------------------------------------------------------------------
    def list(self) -> list[Document]:
        """Every document, by name."""
        with self.locked() as docs:
            return sorted(docs.values(), key=lambda d: d.name.lower())

    def path(self, name: str) -> Path:
        """The file holding document ``name``."""
        return self.root / name

    def read(self, name: str) -> str:
        """The text of document ``name``."""
        with self.locked() as docs:
            if name not in docs:
                raise KeyError(f"no document named {name!r}")
        return self.path(name).read_text(encoding="utf-8")

    # -- changes ----------------------------------------------------------------------------------------------
    def save(self, name: str, text: str, source: str = "") -> Document:
        """Create or overwrite document ``name`` with ``text`` (atomically)."""
        name = safe_name(name)
        with self.locked() as docs:
            atomic_write_text(self.path(name), text)
            now = _now()
            old = docs.get(name)
            doc = Document(
                name=name,
                sha256=_sha(text),
                size=len(text.encode("utf-8")),
                created=old.created if old else now,
                modified=now,
                source=source or (old.source if old else ""),
                seen_by=old.seen_by if old else {},
            )
            docs[name] = doc
            return doc

    def mark_seen(self, version: str, texts: dict[str, str]) -> None:
        """Record that model ``version`` was trained with these document texts (by content hash)."""
        with self.locked() as docs:
            for name, text in texts.items():
                if name in docs:
                    docs[name].seen_by[version] = _sha(text)

    def remove(self, name: str) -> None:
        """Delete document ``name`` (file and manifest entry)."""
        with self.locked() as docs:
            if name not in docs:
                raise KeyError(f"no document named {name!r}")
            del docs[name]
            self.path(name).unlink(missing_ok=True)

    def rename(self, old: str, new: str) -> Document:
        """Give document ``old`` the name ``new``."""
        new = safe_name(new)
        with self.locked() as docs:
            if old not in docs:
                raise KeyError(f"no document named {old!r}")
            if new in docs:
                raise ValueError(f"a document named {new!r} exists already")
            os.replace(self.path(old), self.path(new))
            doc = docs.pop(old)
            doc.name = new
            docs[new] = doc
            return doc

    def import_paths(self, paths: Iterable[Path], max_bytes: int) -> list[ImportResult]:
        """Copy text files (or every text file in folders) into the store; one bad file stops nothing."""
        results: list[ImportResult] = []
        for path in paths:
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
                if not files:
                    results.append(ImportResult(path, "refused", "folder holds no text files"))
                for f in files:
                    results.append(self._import_one(f, max_bytes))
            elif path.exists():
                results.append(self._import_one(path, max_bytes))
            else:
                results.append(ImportResult(path, "refused", "no such file or folder"))
        return results

    def _import_one(self, path: Path, max_bytes: int) -> ImportResult:
        try:
            decoded = read_document(path, max_bytes)
        except NotText as exc:
            return ImportResult(path, "refused", str(exc))
        digest = _sha(decoded.text)
        with self.locked() as docs:
            for doc in docs.values():
                if doc.sha256 == digest:
                    return ImportResult(path, "duplicate", doc.name)
            name = _unique(safe_name(path.name), docs)
            atomic_write_text(self.path(name), decoded.text)
            now = _now()
            docs[name] = Document(name, digest, len(decoded.text.encode("utf-8")), now, now, str(path.resolve()))
        note = f" (decoded as {decoded.encoding})" if decoded.encoding not in ("utf-8", "utf-8-sig") else ""
        return ImportResult(path, "imported", name + note)


def _unique(name: str, docs: dict[str, Document]) -> str:
    if name not in docs:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    k = 2
    while True:
        candidate = f"{stem} ({k}).{suffix}" if suffix else f"{stem} ({k})"
        if candidate not in docs:
            return candidate
        k += 1
