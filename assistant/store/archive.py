"""Backup and move: one archive of everything the assistant keeps for a user, restored only after it is verified.

``export`` writes a gzip'd tar: ``MANIFEST.json`` first (format tag, version, the sha256 and size of every file),
then every file of the user data folder (documents, personal model versions, personal memory, controls) and of
the config folder (settings), under ``data/`` and ``config/``. Lock files, temporary files and restore folders
are left out; caches and logs too (they are rebuilt).

``restore`` reads the whole archive into a staging folder and checks it before it touches anything: the format
tag, every member a plain file with a safe relative name listed in the manifest, every checksum and size, every
listed file present, the archive complete. Only then does it move the current files aside (kept for one
``undo``) and the restored ones in; a damaged, truncated or foreign archive is refused with an ``ArchiveError``
and nothing changes. ``undo`` swaps the two back (a second ``undo`` redoes the restore).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock, Timeout

from assistant.atomic import atomic_open
from assistant.store.paths import Paths

FORMAT = "assistant-archive"
VERSION = 1
MANIFEST = "MANIFEST.json"
RESTORE_DIR = ".restore"
"""Inside the data and config folders: the staging area and what the last restore replaced."""
UNDO = "undo"
_ROOTS = ("data", "config")
_CHUNK = 1 << 20


class ArchiveError(RuntimeError):
    """The archive is damaged, truncated, unsafe or not an assistant archive, or there is nothing to undo."""


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


def export(paths: Paths, file: Path) -> ArchiveSummary:
    """Write one archive of the user's documents, models, memory, controls and settings to ``file``."""
    file = Path(file)
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


def _check_manifest(raw: bytes) -> dict[str, dict[str, Any]]:
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
        if not (
            isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and isinstance(entry.get("size"), int)
        ):
            raise ArchiveError(f"its manifest entry for {name!r} is malformed")
    return files


def _unpack(file: Path, staging: Path) -> dict[str, dict[str, Any]]:
    """Extract ``file`` into ``staging`` (``data/...``, ``config/...``), checking everything; the manifest's files."""
    files: dict[str, dict[str, Any]] | None = None
    done: set[str] = set()
    try:
        with tarfile.open(file, mode="r:gz") as tar:
            for member in tar:
                if files is None:
                    if member.name != MANIFEST or not member.isreg() or member.size > 64 << 20:
                        raise ArchiveError("it is not an assistant archive (it does not start with its manifest)")
                    f = tar.extractfile(member)
                    assert f is not None
                    files = _check_manifest(f.read())
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
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                h = hashlib.sha256()
                src = tar.extractfile(member)
                assert src is not None
                with open(target, "xb") as out:
                    os.chmod(target, 0o600)
                    while chunk := src.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                if h.hexdigest() != entry["sha256"]:
                    raise ArchiveError(f"{name!r} does not match its checksum: the archive is damaged")
                done.add(name)
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


def verify(file: Path) -> dict[str, dict[str, Any]]:
    """Check ``file`` completely without restoring it; the manifest's files (name -> sha256 and size)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="assistant-verify-") as tmp:
        return _check(file, Path(tmp))


def _check(file: Path, staging: Path) -> dict[str, dict[str, Any]]:
    try:
        return _unpack(Path(file), staging)
    except ArchiveError as exc:
        raise ArchiveError(f"{file} was refused, nothing was changed: {exc}") from exc


def _folders(paths: Paths) -> dict[str, Path]:
    return {"data": paths.data, "config": paths.config}


def _swap_in(current: Path, incoming: Path | None, keep: Path) -> None:
    """Move every entry of ``current`` (but the restore folder) into ``keep``, then every entry of ``incoming``
    into ``current``."""
    keep.mkdir(parents=True, exist_ok=True, mode=0o700)
    current.mkdir(parents=True, exist_ok=True, mode=0o700)
    for entry in sorted(current.iterdir()):
        if entry.name != RESTORE_DIR:
            os.replace(entry, keep / entry.name)
    if incoming is not None and incoming.is_dir():
        for entry in sorted(incoming.iterdir()):
            os.replace(entry, current / entry.name)


def restore(paths: Paths, file: Path) -> ArchiveSummary:
    """Replace the user's files with those of a verified archive; what was replaced is kept for ``undo``."""
    folders = _folders(paths)
    work = {root: folder / RESTORE_DIR for root, folder in folders.items()}
    created = not work["data"].exists()
    for w in work.values():
        shutil.rmtree(w / "staging", ignore_errors=True)
    work["data"].mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = work["data"] / "staging"
    swapping = False
    try:
        files = _check(Path(file), staging)
        work["config"].mkdir(parents=True, exist_ok=True, mode=0o700)
        if (staging / "config").is_dir():  # config may live on another file system: stage it beside itself
            shutil.move(staging / "config", work["config"] / "staging")
        with _locks(paths):
            swapping = True  # from here on the restore folder holds the user's replaced files
            for root, folder in folders.items():
                incoming = (staging / "data") if root == "data" else work["config"] / "staging"
                fresh = work[root] / "undo-new"
                shutil.rmtree(fresh, ignore_errors=True)
                _swap_in(folder, incoming, fresh)
            for w in work.values():
                shutil.rmtree(w / UNDO, ignore_errors=True)
                os.replace(w / "undo-new", w / UNDO)
    except BaseException:
        if created and not swapping:
            shutil.rmtree(work["data"], ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work["config"] / "staging", ignore_errors=True)
    return ArchiveSummary(Path(file), len(files), sum(e["size"] for e in files.values()))


def can_undo(paths: Paths) -> bool:
    """Whether a restore can be undone."""
    return (paths.data / RESTORE_DIR / UNDO).is_dir()


def undo(paths: Paths) -> None:
    """Put back what the last restore replaced (the restored files are kept, so a second undo redoes it)."""
    if not can_undo(paths):
        raise ArchiveError("there is no restore to undo")
    with _locks(paths):
        for folder in _folders(paths).values():
            w = folder / RESTORE_DIR
            previous = w / UNDO
            swap = w / "undo-new"
            shutil.rmtree(swap, ignore_errors=True)
            _swap_in(folder, previous if previous.is_dir() else None, swap)
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(swap, previous)
