"""Leftovers of killed writers: a writer SIGKILLed inside an atomic write leaves its temporary file, and the next
start (a store opening, the next write to that folder) removes it; a running writer's file is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from assistant.atomic import atomic_open, clean_leftovers
from assistant.store.archive import export
from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry
from assistant.store.paths import Paths

KILLED_WRITE = """
import os, signal, sys
from assistant.atomic import atomic_open

with atomic_open(sys.argv[1]) as f:
    f.write(b"half of the personal memory, with paragraph texts")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_write(target: Path) -> Path:
    """Run a writer that is killed inside its atomic write of ``target``; its temporary file."""
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(target)], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    [left] = [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.") and p.name.endswith(".tmp")]
    assert not target.exists()
    return left


def test_a_killed_memory_write_is_cleaned_when_the_store_opens(tmp_path: Path) -> None:
    paths = Paths.at(tmp_path / "home")
    DocumentStore(paths.documents).save("a.txt", "some text\n")
    left = _killed_write(paths.data / "personal_memory.json.gz")
    assert left.exists()
    DocumentStore(paths.documents).list()  # any command that opens the store: import, vocab, suggest, docs
    assert not left.exists()


def test_a_killed_export_is_cleaned_by_the_next_export_into_that_folder(tmp_path: Path) -> None:
    paths = Paths.at(tmp_path / "home")
    DocumentStore(paths.documents).save("a.txt", "some text\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    left = _killed_write(backups / "monday.tar.gz")
    summary = export(paths, backups)  # a dated name: another target in the same folder
    assert not left.exists() and [p.name for p in backups.iterdir()] == [summary.path.name]


def test_a_killed_active_pointer_write_is_cleaned_when_the_registry_opens(tmp_path: Path) -> None:
    models = tmp_path / "models"
    left = _killed_write(models / "active")
    ModelRegistry(models, tmp_path / "base")
    assert not left.exists()


def test_a_running_writers_temporary_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "memory.json.gz"
    with atomic_open(target) as f:
        f.write(b"being written")
        [mine] = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert clean_leftovers(tmp_path) == [] and mine.exists()
        other = tmp_path / f".other.json.{os.getppid()}-abcdefgh.tmp"  # a live process's (our parent's)
        other.write_bytes(b"x")
        unrelated = tmp_path / ".notes.txt.swp.tmp"
        unrelated.write_bytes(b"not ours")
        assert clean_leftovers(tmp_path) == [] and other.exists() and unrelated.exists()
    assert target.read_bytes() == b"being written" and not mine.exists()
