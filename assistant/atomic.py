"""Atomic file writes: a temporary file in the same folder, fsync, then rename over the target.

The temporary file is named ``.NAME.PID-XXXXXXXX.tmp`` after its target and the writing process, so the leftover
of a killed writer is recognised and removed (:func:`clean_leftovers`) the next time anything is written to that
folder, and whenever a store opens its folders; a live writer's file is never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: int = 0o600) -> Iterator[IO[bytes]]:
    """Open a binary temporary file that replaces ``path`` only when the block ends without error."""
    target = Path(path)
    private_dir(target.parent)
    clean_leftovers(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, mode) as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, mode: int = 0o600) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


_LEFTOVER = re.compile(r"\..+\.(\d+)-[A-Za-z0-9_]+\.tmp")
"""The name of :func:`atomic_open`'s temporary file; group 1 is the writer's process id."""


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or a number no process can have: left alone)
    return True


def clean_leftovers(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that atomic writes in ``folder`` left when their process was killed (a
    process still running keeps its own); the files removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _LEFTOVER.fullmatch(entry.name)
        if m and entry.is_file(follow_symlinks=False) and not _alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and any of its parents that are missing, private to the user (0700); existing folders
    are left as they are."""
    folder = Path(path)
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for p in reversed(missing):
        with contextlib.suppress(FileExistsError):
            p.mkdir(mode=0o700)
        os.chmod(p, 0o700)
    return folder


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (best effort: some file systems refuse to open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
