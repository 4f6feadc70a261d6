"""The user's documents: plain UTF-8 files in one folder plus a JSON manifest, guarded by a file lock.

Every write is atomic (temporary file, fsync, rename), files are private to the user (0600, folders 0700), and
the manifest records each document's content hash, size and times, and which model version has seen which
content (for incremental fine-tuning).

The store's own files (the manifest ``.manifest.json``, the lock, temporary files) have names starting with a
dot, which a document name never has (:func:`safe_name`), so a document can never overwrite them. Opening a
store tidies up after a killed process: temporary files are removed, document files the manifest does not list
are added to it, and a damaged manifest is kept aside and rebuilt from the files on disk (nothing is dropped).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.atomic import atomic_write_text, clean_leftovers, private_dir
from assistant.store.archive import ArchiveError, recover
from assistant.store.mail import MBOX_SUFFIXES, mailbox_kind, read_mailbox
from assistant.store.textfile import TEXT_SUFFIXES, NotText, printable, read_document

MANIFEST = ".manifest.json"
"""The document list (hidden: no document can have this name)."""
LEGACY_MANIFEST = "manifest.json"
"""Where stores made before the manifest was hidden kept it (moved on first open)."""
LOCK_TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The store is locked by another process, or cannot be read or written."""


class ManifestDamaged(ValueError):
    """The manifest does not have the expected shape (the message says where)."""


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
    """``imported``, ``duplicate``, ``refused`` (an error) or ``skipped`` (not something to import)."""
    detail: str = ""
    """The document's name, the document it duplicates, or why it was refused or skipped."""
    count: int = 1
    """How many files or mail messages the line stands for (a mailbox's skipped messages share one line)."""

    @property
    def label(self) -> str:
        """The path as printable text (undecodable bytes of a file name shown as U+FFFD)."""
        return printable(str(self.path))


def _now() -> float:
    return time.time()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_UNSAFE = re.compile(r"[^\w .,()+\-]+")


def safe_name(name: str) -> str:
    """A file name from a display name: no separators or control characters, not hidden, not empty."""
    cleaned = _UNSAFE.sub("_", printable(name)).strip(" .")
    return cleaned[:120] or "untitled"


def is_document_name(name: str) -> bool:
    """Whether ``name`` can be a document's file name (store files are hidden and never can)."""
    return bool(name) and safe_name(name) == name


_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "sha256": (str,),
    "size": (int,),
    "created": (int, float),
    "modified": (int, float),
    "source": (str,),
}


def decode_manifest(raw: object) -> dict[str, Document]:
    """The documents of a parsed manifest; :class:`ManifestDamaged` when anything has the wrong shape."""
    if not isinstance(raw, dict) or not isinstance(raw.get("documents"), list):
        raise ManifestDamaged("it has no 'documents' list")
    docs: dict[str, Document] = {}
    for i, entry in enumerate(raw["documents"]):
        if not isinstance(entry, dict):
            raise ManifestDamaged(f"entry {i} is not an object")
        for key, types in _FIELDS.items():
            value = entry.get(key, "" if key == "source" else None)
            if not isinstance(value, types) or isinstance(value, bool):
                raise ManifestDamaged(f"entry {i} has a bad {key!r}: {value!r}")
        seen = entry.get("seen_by", {})
        if not isinstance(seen, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in seen.items()):
            raise ManifestDamaged(f"entry {i} has a bad 'seen_by'")
        if not is_document_name(entry["name"]) or entry["name"] in docs:
            raise ManifestDamaged(f"entry {i} has a bad or repeated name {entry['name']!r}")
        docs[entry["name"]] = Document(
            entry["name"],
            entry["sha256"],
            entry["size"],
            float(entry["created"]),
            float(entry["modified"]),
            entry.get("source", ""),
            dict(seen),
        )
    return docs


@dataclass
class _Change:
    """A write in progress: the manifest being changed and the document files it created."""

    docs: dict[str, Document]
    new_files: list[Path] = field(default_factory=list)


class DocumentStore:
    """Documents under ``root`` (normally ``<user data>/documents``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            finished = recover(root.parent)  # a restore killed mid-swap is finished before anything is read
        except ArchiveError as exc:
            raise StoreError(str(exc)) from exc
        private_dir(root)
        for folder in (root.parent, root):
            os.chmod(folder, 0o700)
        self._lock = FileLock(str(root / ".lock"), timeout=LOCK_TIMEOUT_S, mode=0o600)
        self._opened = False
        self.notices: list[str] = []
        """What opening the store found and repaired (a damaged manifest, leftovers of a killed process)."""
        if finished:
            self._notice(finished)

    @contextmanager
    def locked(self) -> Iterator[dict[str, Document]]:
        """Hold the store lock; yields the manifest, written back atomically when the block ends cleanly."""
        try:
            with self._lock:
                if not self._opened:
                    self._open()
                    self._opened = True
                docs = self._read()
                before = json.dumps(self._encode(docs), sort_keys=True)
                yield docs
                after = self._encode(docs)
                if json.dumps(after, sort_keys=True) != before:
                    self._write_manifest(docs)
        except Timeout as exc:
            raise StoreError(
                f"{self.root} is locked by another assistant process (waited {LOCK_TIMEOUT_S:.0f} s)"
            ) from exc

    def _notice(self, message: str) -> None:
        log.info("%s", message)
        self.notices.append(message)

    def _write_manifest(self, docs: dict[str, Document]) -> None:
        atomic_write_text(self.root / MANIFEST, json.dumps(self._encode(docs), indent=1, ensure_ascii=False))

    def _open(self) -> None:
        """First use (lock held): move a legacy manifest, repair damage, clean leftovers of killed writes."""
        clean_leftovers(self.root.parent)  # e.g. a half-written personal memory of a killed process
        legacy = self.root / LEGACY_MANIFEST
        manifest = self.root / MANIFEST
        if not manifest.exists() and legacy.is_file():
            try:
                listed = decode_manifest(json.loads(legacy.read_bytes().decode("utf-8")))
            except (ValueError, UnicodeDecodeError):
                listed = None
            if listed is not None and LEGACY_MANIFEST in listed:
                shutil.copyfile(legacy, manifest)  # a document had that name: its file now holds the manifest
                os.chmod(manifest, 0o600)
            else:
                os.replace(legacy, manifest)  # a damaged one is then kept aside and rebuilt by _read
        docs = self._read()
        changed = False
        for name in sorted(docs):
            if not self.path(name).is_file():
                self._notice(f"document {name!r} is listed but its file is gone; removed it from the list")
                del docs[name]
                changed = True
        adopted = []
        for entry in sorted(self.root.iterdir()):
            if entry.name.startswith("."):
                if entry.name.endswith(".tmp") and entry.is_file():
                    entry.unlink(missing_ok=True)  # a write that was killed before its rename
                continue
            if entry.name in docs or not is_document_name(entry.name) or not _is_regular(entry):
                continue
            doc = _document_from_file(entry)
            if doc is not None:
                docs[doc.name] = doc
                adopted.append(doc.name)
                changed = True
        if adopted:
            self._notice(
                f"{len(adopted)} document file(s) in {self.root} were not in the list (an import or save was "
                f"interrupted); added them: {', '.join(adopted)}"
            )
        if changed or not manifest.exists():
            self._write_manifest(docs)

    def _read(self) -> dict[str, Document]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        try:
            return decode_manifest(json.loads(path.read_bytes().decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:
            return self._rebuild(path, str(exc))
        except OSError as exc:
            raise StoreError(f"{path} cannot be read: {exc.strerror or exc}") from exc

    def _rebuild(self, path: Path, reason: str) -> dict[str, Document]:
        """Keep a damaged manifest aside and list every document file on disk instead."""
        kept = self.root / f".manifest.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.json"
        os.replace(path, kept)
        docs: dict[str, Document] = {}
        for entry in sorted(self.root.iterdir()):
            if is_document_name(entry.name) and _is_regular(entry):
                doc = _document_from_file(entry)
                if doc is not None:
                    docs[doc.name] = doc
        self._write_manifest(docs)
        self._notice(
            f"the document list {path} was damaged ({reason}); rebuilt it from the {len(docs)} document "
            f"file(s) in {self.root} (the damaged copy is kept as {kept.name})"
        )
        return docs

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
    def _put(self, change: _Change, name: str, text: str, source: str) -> Document:
        """Write document ``name`` (lock held); a new file that could not be listed is removed again."""
        docs = change.docs
        new = name not in docs
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
        if new:
            change.new_files.append(self.path(name))
        return doc

    @contextmanager
    def _changing(self) -> Iterator[_Change]:
        """:meth:`locked` for writes: if the manifest cannot be written, new document files are removed again."""
        change = _Change({})
        try:
            with self.locked() as docs:
                change.docs = docs
                yield change
        except OSError as exc:
            for f in change.new_files:
                f.unlink(missing_ok=True)
            raise StoreError(f"could not write to {self.root}: {exc.strerror or exc}") from exc

    def save(self, name: str, text: str, source: str = "") -> Document:
        """Create or overwrite document ``name`` with ``text`` (atomically)."""
        name = safe_name(name)
        with self._changing() as change:
            return self._put(change, name, text, source)

    def save_for_source(self, source: str, name: str, text: str) -> Document:
        """Save ``text`` as the document imported from ``source``: the one saved from there before, else a new
        one named after ``name`` (made unique). Choosing the name and writing are one lock hold, so two
        processes saving different sources with the same file name both keep their text."""
        with self._changing() as change:
            for doc in change.docs.values():
                if doc.source == source:
                    return self._put(change, doc.name, text, source)
            return self._put(change, _unique(safe_name(name), change.docs), text, source)

    def append(self, name: str, text: str, source: str = "") -> Document:
        """Add ``text`` as a new paragraph at the end of document ``name`` (created if missing), in one lock hold."""
        name = safe_name(name)
        with self._changing() as change:
            old = self.path(name).read_text(encoding="utf-8") if name in change.docs else ""
            body = f"{old.rstrip()}\n\n{text.strip()}\n" if old.strip() else f"{text.strip()}\n"
            return self._put(change, name, body, source)

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

    def import_paths(
        self, paths: Iterable[Path], max_bytes: int, follow_links: bool = False, mail_from: Collection[str] = ()
    ) -> list[ImportResult]:
        """Copy text files (or every text file in folders) into the store; one bad file stops nothing.

        Every file of a folder gets a line: imported, duplicate, refused (with the error) or skipped (not a
        text file type, a hidden folder, or a link leading out of the folder, which is followed only with
        ``follow_links``). An mbox file or a Maildir folder becomes one document per message
        (:meth:`import_mailbox`), keeping only mail sent from ``mail_from`` when it names addresses.
        """
        results: list[ImportResult] = []
        for path in paths:
            kind = mailbox_kind(path)
            if kind is not None:
                results.extend(self.import_mailbox(path, kind, max_bytes, mail_from))
            elif path.is_dir():
                found = list(_walk(path, follow_links))
                if not any(reason is None for _, reason in found):
                    results.append(ImportResult(path, "refused", "folder holds no text files"))
                for f, reason in found:
                    if reason is None and f.suffix.lower() in MBOX_SUFFIXES and (kind := mailbox_kind(f)):
                        results.extend(self.import_mailbox(f, kind, max_bytes, mail_from))
                    elif reason is None:
                        results.append(self._import_one(f, max_bytes))
                    else:
                        status, _, why = reason.partition(":")
                        results.append(ImportResult(f, status, why.strip()))
            elif path.exists() or path.is_symlink():
                results.append(self._import_one(path, max_bytes))
            else:
                results.append(ImportResult(path, "refused", "no such file or folder"))
        return results

    def import_mailbox(
        self, path: Path, kind: str, max_bytes: int, mail_from: Collection[str] = ()
    ) -> list[ImportResult]:
        """One document per message of an mbox file or Maildir folder (the writer's own words, see
        :mod:`assistant.store.mail`): a line per message imported, duplicated (same text, or imported from the
        same message before) or damaged, and one per reason messages were skipped."""
        read = read_mailbox(path, kind, mail_from, max_bytes)
        results = [ImportResult(path, "refused", why) for why in read.problems]
        try:
            with self._changing() as change:
                by_sha = {d.sha256: d.name for d in change.docs.values()}
                by_source = {d.source: d.name for d in change.docs.values() if d.source}
                for m in read.messages:
                    same = by_source.get(m.source) or by_sha.get(_sha(m.text))
                    if same is not None:
                        results.append(ImportResult(path, "duplicate", same))
                        continue
                    doc = self._put(change, _unique(safe_name(m.name), change.docs), m.text, m.source)
                    by_sha[doc.sha256] = by_source[m.source] = doc.name
                    results.append(ImportResult(path, "imported", doc.name + (f" ({m.note})" if m.note else "")))
        except StoreError as exc:
            return [*results, ImportResult(path, "refused", str(exc), len(read.messages))]
        for why, n in sorted(read.skipped.items()):
            results.append(ImportResult(path, "skipped", f"{n} message(s): {why}", n))
        if not read.messages and not read.skipped and not read.problems:
            results.append(ImportResult(path, "refused", f"{kind} holds no messages"))
        return results

    def _import_one(self, path: Path, max_bytes: int) -> ImportResult:
        try:
            decoded = read_document(path, max_bytes)
        except NotText as exc:
            return ImportResult(path, "refused", str(exc))
        digest = _sha(decoded.text)
        try:
            with self._changing() as change:
                for doc in change.docs.values():
                    if doc.sha256 == digest:
                        return ImportResult(path, "duplicate", doc.name)
                name = _unique(safe_name(path.name), change.docs)
                self._put(change, name, decoded.text, printable(str(path.absolute())))
        except StoreError as exc:
            return ImportResult(path, "refused", str(exc))
        note = f" (decoded as {decoded.encoding})" if decoded.encoding not in ("utf-8", "utf-8-sig") else ""
        return ImportResult(path, "imported", name + note)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _document_from_file(path: Path) -> Document | None:
    """A manifest entry for a document file found on disk (None when it is not UTF-8 text)."""
    try:
        text = path.read_bytes().decode("utf-8")
        st = path.stat()
    except (OSError, UnicodeDecodeError):
        return None
    return Document(path.name, _sha(text), len(text.encode("utf-8")), st.st_mtime, st.st_mtime, "")


def _walk(folder: Path, follow_links: bool) -> Iterator[tuple[Path, str | None]]:
    """Files under ``folder`` in sorted order, each with None (to import) or ``"status: why"``."""
    top = folder.resolve()
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(folder, onerror=errors.append, followlinks=follow_links):
        here = Path(dirpath)
        while errors:
            exc = errors.pop(0)
            yield Path(exc.filename or dirpath), f"refused: folder cannot be read: {exc.strerror or exc}"
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if d.startswith("."):
                yield sub, "skipped: hidden folder"
            elif sub.is_symlink() and not follow_links:
                yield sub, "skipped: link to a folder (not followed)"
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            f = here / name
            if f.is_symlink() and not follow_links and not f.resolve().is_relative_to(top):
                yield f, "skipped: link to a file outside the folder (not followed)"
            elif f.suffix.lower() not in TEXT_SUFFIXES | MBOX_SUFFIXES:
                yield f, f"skipped: not a text file type ({f.suffix or 'no suffix'})"
            else:
                yield f, None
    while errors:
        exc = errors.pop(0)
        yield Path(exc.filename or folder), f"refused: folder cannot be read: {exc.strerror or exc}"


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
