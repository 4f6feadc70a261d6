"""Backup and move: one archive of everything the assistant keeps for a user, restored only after it is verified.

``export`` writes a gzip'd tar: ``MANIFEST.json`` first (format tag, version, the sha256 and size of every file),
then every file of the user data folder (documents, personal model versions, personal memory, controls) and of
the config folder (settings), under ``data/`` and ``config/``. Lock files, temporary files and restore folders
are left out; caches and logs too (they are rebuilt). Given a folder, it writes a dated archive into it.

``restore`` checks the whole archive before it touches anything: the format tag, the limits (every document
within the import limit and text, the whole within the archive limit, both read from the manifest before a byte
is unpacked), every member a plain file with a safe relative name listed in the manifest, every checksum and
size, every listed file present. It unpacks into a staging folder (``.restore/in`` beside the files) and then
swaps: the current files move into ``.restore/out``, the restored ones into place, and ``out`` becomes the
one ``undo`` kept. The swap is journaled (``data/.restore/journal.json``, one step per folder move, written
before and after each): a restore killed at any point is finished by the next command that opens the store (or
by ``restore`` or ``undo``), one stopped with Ctrl+C or an error is rolled back at once, and no file is ever
deleted unless a copy is elsewhere (the archive itself for the staging folder). ``undo`` is the same journaled
swap between the current files and ``undo`` (a second ``undo`` redoes the restore). A damaged, truncated,
oversized or foreign archive is refused with an ``ArchiveError`` and nothing changes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock, Timeout

from assistant.atomic import atomic_open, atomic_write_text, private_dir
from assistant.store.paths import Paths
from assistant.store.textfile import NotText, decode_document

FORMAT = "assistant-archive"
VERSION = 1
MANIFEST = "MANIFEST.json"
RESTORE_DIR = ".restore"
"""Inside the data and config folders: the staging area and what the last restore replaced."""
UNDO = "undo"
"""In each restore folder: what the last restore (or undo) replaced."""
STAGING = "in"
"""In each restore folder: the verified files of the archive, waiting to be swapped in."""
REPLACED = "out"
"""In each restore folder: the files being swapped out (becomes ``undo`` when the swap is done)."""
JOURNAL = "journal.json"
"""In the data folder's restore folder: the swap in progress (absent when none is)."""
MAX_MANIFEST_BYTES = 16 << 20
"""The largest manifest read (about 100,000 files)."""
DEFAULT_MAX_ARCHIVE_BYTES = 4 << 30
"""The default limit on what an archive unpacks to (setting ``import.max_archive_bytes``)."""
_ROOTS = ("data", "config")
_CHUNK = 1 << 20
_HERE = "."
"""A journal step's name for the data or config folder itself (its entries but the restore folder)."""

checkpoint: Callable[[str], None] | None = None
"""Called with a label at every point where a restore or undo may be stopped (the kill tests stop it there)."""


def _reached(label: str) -> None:
    if checkpoint is not None:
        checkpoint(label)


class ArchiveError(RuntimeError):
    """The archive is damaged, truncated, unsafe or not an assistant archive, or there is nothing to undo."""


@dataclass(frozen=True)
class Limits:
    """What a restore accepts: the import rules for every document, and a limit on the whole archive."""

    document_bytes: int = 5_000_000
    """The largest document (setting ``import.max_bytes``, as for an import)."""
    total_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES
    """The most all files of the archive may add up to (setting ``import.max_archive_bytes``)."""


@dataclass(frozen=True)
class ArchiveSummary:
    """What an export or a restore covered."""

    path: Path
    files: int
    bytes: int


def _skipped(rel: PurePosixPath) -> bool:
    """Files that are not the user's state: locks, temporary files, staging and restore folders."""
    name = rel.name
    return (
        name.endswith(".lock")
        or (name.startswith(".") and name.endswith(".tmp"))
        or any(part == RESTORE_DIR or part.startswith(".staging-") for part in rel.parts)
    )


def _files(paths: Paths) -> Iterator[tuple[str, Path]]:
    """``(archive name, file)`` for every file to back up, sorted (links are never followed)."""
    for root_name, folder in zip(_ROOTS, (paths.data, paths.config), strict=True):
        if not folder.is_dir():
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
            for f in filenames:
                path = Path(dirpath) / f
                rel = PurePosixPath(path.relative_to(folder).as_posix())
                if not _skipped(rel) and path.is_file() and not path.is_symlink():
                    found.append((f"{root_name}/{rel}", path))
            dirnames[:] = [d for d in dirnames if d != RESTORE_DIR]
        yield from sorted(found)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _locks(paths: Paths) -> ExitStack:
    """Hold the document store's and the model registry's locks (another assistant writing is refused)."""
    stack = ExitStack()
    try:
        for folder in (paths.documents, paths.models):
            if folder.is_dir():
                stack.enter_context(FileLock(str(folder / ".lock"), timeout=5, mode=0o600))
    except Timeout as exc:
        stack.close()
        raise ArchiveError("another assistant process is using your files; close it and try again") from exc
    return stack


def archive_name(when: float | None = None) -> str:
    """The dated file name ``export`` gives an archive written into a folder."""
    return time.strftime("assistant-backup-%Y%m%d-%H%M%S.tar.gz", time.localtime(when))


def export(paths: Paths, file: Path) -> ArchiveSummary:
    """Write one archive of the user's documents, models, memory, controls and settings to ``file`` (into an
    existing folder: a dated archive there); a missing parent folder is an error, not created."""
    file = Path(file)
    if file.is_dir():
        file = file / archive_name()
    if not file.parent.is_dir():
        raise ArchiveError(f"the folder {file.parent} does not exist; create it first or choose another place")
    for folder in (paths.data, paths.config):
        if file.resolve().is_relative_to(folder.resolve()):
            raise ArchiveError(f"write the archive outside {folder} (it would contain itself)")
    with _locks(paths):
        entries = [(name, path, _sha256(path), path.stat().st_size) for name, path in _files(paths)]
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": time.time(),
            "files": {name: {"sha256": sha, "size": size} for name, _, sha, size in entries},
        }
        blob = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
        with atomic_open(file) as raw, tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, MANIFEST, io.BytesIO(blob), len(blob))
            for name, path, sha, size in entries:
                with open(path, "rb") as f:
                    _add(tar, name, f, size)
                if _sha256(path) != sha:
                    raise ArchiveError(f"{path} changed while it was being exported; export again")
    return ArchiveSummary(file, len(entries), sum(e[3] for e in entries))


def _add(tar: tarfile.TarFile, name: str, f: Any, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, f)


def _safe_name(name: str) -> str | None:
    """Why ``name`` may not be restored (None: it may)."""
    p = PurePosixPath(name)
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return "a path with '..' or '.'"
    if len(p.parts) < 2 or p.parts[0] not in _ROOTS:
        return "a path outside data/ and config/"
    if _skipped(p):
        return "a lock, temporary or restore file"
    return None


def _is_document(name: str) -> bool:
    """Whether archive member ``name`` is one of the user's documents (not the store's own hidden files)."""
    p = PurePosixPath(name)
    return p.parts[:2] == ("data", "documents") and len(p.parts) == 3 and not p.name.startswith(".")


def _size(n: int) -> str:
    return f"{n:,} bytes"


def _check_manifest(raw: bytes, limits: Limits) -> dict[str, dict[str, Any]]:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(f"its manifest is unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("it is not an assistant archive (no assistant manifest)")
    if manifest.get("version") != VERSION:
        raise ArchiveError(
            f"it is an archive of format version {manifest.get('version')!r}; this assistant reads {VERSION}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ArchiveError("its manifest lists no files")
    for name, entry in files.items():
        why = _safe_name(name)
        if why is not None:
            raise ArchiveError(f"it holds {why}: {name!r}")
        size = entry.get("size") if isinstance(entry, dict) else None
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and isinstance(size, int)) or (
            isinstance(size, bool) or size < 0
        ):
            raise ArchiveError(f"its manifest entry for {name!r} is malformed")
        if _is_document(name) and size > limits.document_bytes:
            raise ArchiveError(
                f"its document {name!r} has {_size(size)}, more than the import limit of "
                f"{_size(limits.document_bytes)} (setting import.max_bytes)"
            )
    total = sum(entry["size"] for entry in files.values())
    if total > limits.total_bytes:
        raise ArchiveError(
            f"its {len(files)} files add up to {_size(total)}, more than the archive limit of "
            f"{_size(limits.total_bytes)} (setting import.max_archive_bytes)"
        )
    return files


def _check_document(name: str, data: bytes) -> None:
    """The import rules for a document's content: UTF-8 text (an empty document is fine)."""
    if not data.strip():
        return
    try:
        decode_document(data)
        data.decode("utf-8")
    except NotText as exc:
        raise ArchiveError(f"its document {name!r} is not text: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"its document {name!r} is not UTF-8 text ({exc.reason})") from exc


def _unpack(file: Path, staging: dict[str, Path], limits: Limits) -> dict[str, dict[str, Any]]:
    """Extract ``file`` (``data/...`` into ``staging["data"]``, ``config/...`` into ``staging["config"]``),
    checking everything; the manifest's files."""
    files: dict[str, dict[str, Any]] | None = None
    done: set[str] = set()
    try:
        with tarfile.open(file, mode="r:gz") as tar:
            for member in tar:
                if files is None:
                    if member.name != MANIFEST or not member.isreg():
                        raise ArchiveError("it is not an assistant archive (it does not start with its manifest)")
                    if member.size > MAX_MANIFEST_BYTES:
                        raise ArchiveError(
                            f"its manifest has {_size(member.size)}, more than the {_size(MAX_MANIFEST_BYTES)} "
                            "an assistant archive's manifest may have (it would list far too many files)"
                        )
                    f = tar.extractfile(member)
                    assert f is not None
                    files = _check_manifest(f.read(), limits)
                    continue
                name = member.name
                if not member.isreg():
                    raise ArchiveError(f"it holds {name!r}, which is not a plain file (links are refused)")
                why = _safe_name(name)
                if why is not None:
                    raise ArchiveError(f"it holds {why}: {name!r}")
                entry = files.get(name)
                if entry is None:
                    raise ArchiveError(f"it holds {name!r}, which its manifest does not list")
                if name in done:
                    raise ArchiveError(f"it holds {name!r} twice")
                if member.size != entry["size"]:
                    raise ArchiveError(f"{name!r} has {member.size} bytes; its manifest says {entry['size']}")
                root, _, rel = name.partition("/")
                target = staging[root] / rel
                private_dir(target.parent)
                h = hashlib.sha256()
                src = tar.extractfile(member)
                assert src is not None
                if _is_document(name):  # within the import limit (checked above): read whole, check it is text
                    data = src.read()
                    _check_document(name, data)
                    src = io.BytesIO(data)
                with open(target, "xb") as out:
                    os.chmod(target, 0o600)
                    while chunk := src.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                if h.hexdigest() != entry["sha256"]:
                    raise ArchiveError(f"{name!r} does not match its checksum: the archive is damaged")
                done.add(name)
                _reached(f"staged {name}")
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ArchiveError(f"it is damaged or truncated ({exc})") from exc
    except OSError as exc:
        raise ArchiveError(f"it cannot be read ({exc})") from exc
    if files is None:
        raise ArchiveError("it is empty")
    missing = sorted(set(files) - done)
    if missing:
        raise ArchiveError(f"it is incomplete: {len(missing)} listed files are missing, e.g. {missing[0]!r}")
    return files


def verify(file: Path, limits: Limits | None = None) -> dict[str, dict[str, Any]]:
    """Check ``file`` completely without restoring it; the manifest's files (name -> sha256 and size)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="assistant-verify-") as tmp:
        return _check(file, {root: Path(tmp) / root for root in _ROOTS}, limits or Limits())


def _check(file: Path, staging: dict[str, Path], limits: Limits) -> dict[str, dict[str, Any]]:
    try:
        return _unpack(Path(file), staging, limits)
    except ArchiveError as exc:
        raise ArchiveError(f"{file} was refused, nothing was changed: {exc}") from exc


# -- the journaled swap ---------------------------------------------------------------------------------------


@dataclass
class _Journal:
    """A swap in progress: ordered steps, each moving every entry of one folder into another."""

    op: str
    """``restore`` or ``undo``."""
    folders: dict[str, str]
    """``data`` and ``config``: their absolute paths."""
    steps: list[list[str]]
    """``[root, source, target]``: ``.`` is the folder itself, other names are inside its restore folder."""
    done: int = 0
    """Steps completed (going forward), or still in place (going back)."""
    direction: str = "forward"
    """``forward`` (finishing the swap) or ``back`` (rolling it back)."""
    phase: str = "swap"
    """``swap`` (moving files) or ``finish`` (putting the restore folders in order)."""

    @classmethod
    def new(cls, op: str, folders: dict[str, Path]) -> _Journal:
        source = STAGING if op == "restore" else UNDO
        steps = [step for root in _ROOTS for step in ([root, _HERE, REPLACED], [root, source, _HERE])]
        return cls(op, {root: str(folder) for root, folder in folders.items()}, steps)

    def place(self, root: str, name: str) -> Path:
        folder = Path(self.folders[root])
        return folder if name == _HERE else folder / RESTORE_DIR / name


def _journal_path(data: Path) -> Path:
    return data / RESTORE_DIR / JOURNAL


def _save(data: Path, journal: _Journal) -> None:
    atomic_write_text(_journal_path(data), json.dumps(asdict(journal), indent=1, ensure_ascii=False))


def _load(data: Path) -> _Journal | None:
    path = _journal_path(data)
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        journal = _Journal(**raw)
        if journal.op not in ("restore", "undo") or set(journal.folders) != set(_ROOTS):
            raise ValueError("unknown operation or folders")
        return journal
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ArchiveError(
            f"{path} (the record of an interrupted restore) cannot be read ({exc}); nothing was deleted: your "
            f"files are in {data}, {data / RESTORE_DIR}/{REPLACED} and {data / RESTORE_DIR}/{STAGING}"
        ) from exc


def _move_all(source: Path, target: Path, label: str) -> None:
    """Move every entry of ``source`` (but a restore folder) into ``target``; running it again after a stop
    moves the rest."""
    private_dir(target)
    if not source.is_dir():
        return
    for entry in sorted(source.iterdir()):
        if entry.name != RESTORE_DIR:
            os.replace(entry, target / entry.name)
            _reached(f"{label} moved {entry.name}")


def _run(data: Path, journal: _Journal) -> None:
    """Carry ``journal`` through to its end (from wherever it stopped), then remove it."""
    while journal.phase == "swap":
        forward = journal.direction == "forward"
        if journal.done == (len(journal.steps) if forward else 0):
            journal.phase = "finish"
            _save(data, journal)
            _reached(f"{journal.op} {journal.direction} finishing")
            break
        index = journal.done if forward else journal.done - 1
        root, source, target = journal.steps[index]
        if not forward:
            source, target = target, source
        label = f"{journal.op} {journal.direction} step {index}"
        _move_all(journal.place(root, source), journal.place(root, target), label)
        journal.done += 1 if forward else -1
        _save(data, journal)
        _reached(f"{label} done")
    for root in _ROOTS:
        _tidy(journal, root)
        _reached(f"{journal.op} {journal.direction} tidied {root}")
    _journal_path(data).unlink(missing_ok=True)
    _reached(f"{journal.op} {journal.direction} ended")


def _tidy(journal: _Journal, root: str) -> None:
    """The end of a swap for one folder (every action may be run again after a stop)."""
    replaced, undo, staging = (journal.place(root, name) for name in (REPLACED, UNDO, STAGING))
    if journal.direction == "forward":
        if replaced.is_dir():  # what the swap replaced becomes the one undo kept
            if journal.op == "restore":
                shutil.rmtree(undo, ignore_errors=True)  # the previous undo: replaced, as the user asked
            else:
                _remove_empty(undo)  # its files are back in place
            os.replace(replaced, undo)
        _remove_empty(staging)
    else:
        if journal.op == "restore":
            shutil.rmtree(staging, ignore_errors=True)  # a copy of the archive, which is still there
        _remove_empty(replaced)


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError, OSError):
        folder.rmdir()


def _stopped(data: Path, journal: _Journal) -> None:
    """Roll back a swap that an error or Ctrl+C stopped (a swap already finishing is finished)."""
    if journal.phase == "swap" and journal.direction == "forward":
        journal.direction = "back"
        journal.done = min(journal.done + 1, len(journal.steps))  # the step under way may be partly done
        _save(data, journal)
    _run(data, journal)


def _folders(paths: Paths) -> dict[str, Path]:
    return {"data": paths.data, "config": paths.config}


def _locks_at(data: Path) -> ExitStack:
    """Hold the document store's and the model registry's locks (another assistant writing is refused)."""
    stack = ExitStack()
    try:
        for folder in (data / "documents", data / "models"):
            if folder.is_dir():
                stack.enter_context(FileLock(str(folder / ".lock"), timeout=5, mode=0o600))
    except Timeout as exc:
        stack.close()
        raise ArchiveError("another assistant process is using your files; close it and try again") from exc
    return stack


def _locks(paths: Paths) -> ExitStack:
    return _locks_at(paths.data)


def _current(paths: Paths) -> dict[str, str]:
    """The user's files as an export would list them (name -> sha256)."""
    return {name: _sha256(path) for name, path in _files(paths)}


def _recover(data: Path, retrying: str | None) -> tuple[_Journal, str] | None:
    """Settle a stopped swap: roll it back when it is the operation being retried and was still moving files
    (the retry then does it once), else finish it. The journal as it was and what was done."""
    if not _journal_path(data).exists():
        return None
    with _locks_at(data):
        journal = _load(data)  # another process may have settled it meanwhile
        if journal is None:
            return None
        before = _Journal(**asdict(journal))
        if retrying == journal.op and journal.phase == "swap":
            _stopped(data, journal)
        else:
            _run(data, journal)
    what = "restore" if before.op == "restore" else "restore --undo"
    if journal.direction == "forward":
        return (
            before,
            f"finished a '{what}' that was stopped before it ended ('restore --undo' puts back what it replaced)",
        )
    return before, f"rolled back a '{what}' that was stopped; your files are as they were before it"


def recover(data: Path, retrying: str | None = None) -> str | None:
    """Settle a restore or undo that was killed, in the user data folder ``data`` (its journal names the config
    folder too): finished, or rolled back when ``retrying`` names the same operation (``restore``, ``undo``)
    and it was still moving files. What was done, or None when nothing was under way."""
    settled = _recover(data, retrying)
    return settled[1] if settled else None


def _swap(paths: Paths, journal: _Journal) -> None:
    """Run a journaled swap whose journal is written; an error or Ctrl+C rolls it back before it is raised."""
    try:
        _reached(f"{journal.op} journal written")
        _run(paths.data, journal)
    except BaseException:
        _stopped(paths.data, journal)
        raise


def restore(paths: Paths, file: Path, limits: Limits | None = None, notes: list[str] | None = None) -> ArchiveSummary:
    """Replace the user's files with those of a verified archive; what was replaced is kept for ``undo``.

    A restore or undo that was stopped is settled first (what was done is added to ``notes``). When the user's
    files already are the archive's (a restore killed after it ended, then retried), nothing is swapped, so the
    undo keeps what the first run replaced."""
    settled = _recover(paths.data, "restore")
    if settled is not None and notes is not None:
        notes.append(settled[1])
    folders = _folders(paths)
    work = {root: folder / RESTORE_DIR for root, folder in folders.items()}
    created = {root: not w.exists() for root, w in work.items()}
    with _locks(paths):
        for w in work.values():
            if (w / REPLACED).exists():
                raise ArchiveError(f"{w / REPLACED} holds files of an interrupted restore; move them away first")
        for w in work.values():
            shutil.rmtree(w / STAGING, ignore_errors=True)  # unpacked from an archive by an older version
            private_dir(w)
        journal = _Journal.new("restore", folders)
        journal.direction = "back"  # while unpacking, a stop only removes what was unpacked
        _save(paths.data, journal)
        try:
            files = _check(Path(file), {root: w / STAGING for root, w in work.items()}, limits or Limits())
        except BaseException:
            _run(paths.data, journal)
            for root, w in work.items():
                if created[root]:
                    _remove_empty(w)
            raise
        summary = ArchiveSummary(Path(file), len(files), sum(e["size"] for e in files.values()))
        if _current(paths) == {name: entry["sha256"] for name, entry in files.items()}:
            _run(paths.data, journal)  # nothing to swap: only the staged copy is removed
            return summary
        journal.direction = "forward"
        _save(paths.data, journal)  # from here on, a stop is finished or rolled back: nothing is lost
        _swap(paths, journal)
    return summary


def can_undo(paths: Paths) -> bool:
    """Whether a restore can be undone."""
    return (paths.data / RESTORE_DIR / UNDO).is_dir() and not _journal_path(paths.data).exists()


def undo(paths: Paths, notes: list[str] | None = None) -> None:
    """Put back what the last restore replaced (the restored files are kept, so a second undo redoes it).

    A restore or undo that was stopped is settled first (what was done is added to ``notes``); an undo stopped
    while finishing is not done twice."""
    settled = _recover(paths.data, "undo")
    if settled is not None:
        journal, message = settled
        if notes is not None:
            notes.append(message)
        if journal.op == "undo" and journal.phase == "finish":
            return
    if not can_undo(paths):
        raise ArchiveError("there is no restore to undo")
    with _locks(paths):
        journal = _Journal.new("undo", _folders(paths))
        _save(paths.data, journal)
        _swap(paths, journal)
