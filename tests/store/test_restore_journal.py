"""A restore or undo stopped at any point loses nothing: SIGKILL at every step of the journaled swap (a real
subprocess killing itself at each checkpoint), then the next command finishes it or rolls it back; Ctrl+C rolls
it back at once. Real files under a temporary home, real archives."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.store import archive
from assistant.store.archive import ArchiveError, can_undo, export, recover, restore, undo
from assistant.store.blocklist import Controls
from assistant.store.documents import DocumentStore
from assistant.store.paths import Paths
from assistant.store.settings import Settings

X_DOCS = {"notes.txt": "Dear Ann,\n\nthe meeting is on Monday.\n", "plan.md": "# Plan\n\nship the Kestrel.\n"}
B_DOCS = {"notes.txt": "Dear Ann,\n\nthe meeting moved to Friday.\n", "later.txt": "written after the backup\n"}

KILL = """
import os, signal, sys
from pathlib import Path
from assistant.store import archive
from assistant.store.paths import Paths

home, op, file, label = sys.argv[1:5]


def stop(at):
    if at == label:
        os.kill(os.getpid(), signal.SIGKILL)


archive.checkpoint = stop
paths = Paths.at(Path(home))
if op == "restore":
    archive.restore(paths, Path(file))
else:
    archive.undo(paths)
sys.exit(3)  # the label was never reached
"""


def _state(paths: Paths, inside: str | None = None) -> dict[str, str]:
    """The user's files (or those kept in ``.restore/<inside>``) by name, with their sha256; locks left out."""
    out = {}
    for root_name, root in (("data", paths.data), ("config", paths.config)):
        base = root if inside is None else root / ".restore" / inside
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*")):
            rel = f.relative_to(base)
            if f.is_file() and not f.name.endswith(".lock") and (inside is not None or rel.parts[0] != ".restore"):
                out[f"{root_name}/{rel}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def _everything(home: Path) -> set[str]:
    return {hashlib.sha256(f.read_bytes()).hexdigest() for f in home.rglob("*") if f.is_file()}


def _fill(paths: Paths, docs: dict[str, str], word: str, words: int) -> None:
    store = DocumentStore(paths.documents)
    for name in {d.name for d in store.list()} - set(docs):
        store.remove(name)
    for name, text in docs.items():
        store.save(name, text)
    version = paths.models / "v0001"
    version.mkdir(parents=True, exist_ok=True)
    (version / "model.safetensors").write_bytes(word.encode() * 500)
    Controls.at(paths.data).block(word)
    settings = Settings()
    settings.suggest.words = words
    settings.save(paths.config)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str], dict[str, str]]:
    """A home in state B, an archive of state X, and both states."""
    root = tmp_path_factory.mktemp("sides")
    paths = Paths.at(root / "home")
    _fill(paths, X_DOCS, "wizard", 3)
    x = _state(paths)
    file = root / "x.tar.gz"
    export(paths, file)
    _fill(paths, B_DOCS, "goblin", 7)
    return root / "home", file, x, _state(paths)


def _labels(sides, op: str) -> list[str]:
    """Every checkpoint an uninterrupted run passes, in order."""
    home, file, _, _ = sides
    seen: list[str] = []
    with _trial(home) as paths:
        if op == "undo":
            restore(paths, file)
        archive.checkpoint = seen.append
        try:
            restore(paths, file) if op == "restore" else undo(paths)
        finally:
            archive.checkpoint = None
    return seen


_trials = iter(range(1_000_000))


@contextmanager
def _trial(home: Path) -> Iterator[Paths]:
    """A fresh copy of the B home for one trial."""
    copy = home.parent / f"trial-{next(_trials)}"
    shutil.copytree(home, copy)
    try:
        yield Paths.at(copy)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _kill(paths: Paths, op: str, file: Path, label: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", KILL, str(paths.data.parent), op, str(file), label],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, (label, proc.returncode, proc.stderr[-2000:])


NEXT: dict[str, Callable[[Paths, Path], None]] = {
    "docs": lambda paths, file: DocumentStore(paths.documents).list(),
    "restore": lambda paths, file: restore(paths, file),
    "undo": lambda paths, file: _undo_if_any(paths),
}


def _undo_if_any(paths: Paths) -> None:
    """``restore --undo``; after a restore that was rolled back there is nothing to undo, and it says so."""
    try:
        undo(paths)
    except ArchiveError as exc:
        assert "no restore to undo" in str(exc)


@pytest.mark.slow
def test_a_restore_killed_at_every_step_is_finished_or_rolled_back_and_loses_nothing(sides) -> None:
    home, file, x, b = sides
    b_hashes = set(b.values())
    labels = _labels(sides, "restore")
    assert len(labels) > 15 and "restore journal written" in labels
    for i, label in enumerate(labels):
        command = list(NEXT)[i % len(NEXT)]
        with _trial(home) as paths:
            _kill(paths, "restore", file, label)
            assert b_hashes <= _everything(paths.data.parent), f"B lost after a kill at {label!r}"
            NEXT[command](paths, file)
            now, kept = _state(paths), _state(paths, "undo")
            assert not (paths.data / ".restore" / "journal.json").exists()
            if command == "restore":  # the retry restores X once, and B is what it keeps for undo
                assert now == x and kept == b, (label, command)
            elif command == "undo":  # the undo of a restore that was finished first gives B back
                assert now == b, (label, command)
                assert kept in (x, {}), (label, command)
            else:  # finished (X, B kept for undo) or rolled back (B, nothing restored)
                assert (now, kept) in ((x, b), (b, {})), (label, command)
            assert b_hashes <= _everything(paths.data.parent)


@pytest.mark.slow
def test_an_undo_killed_at_every_step_is_settled_and_loses_nothing(sides) -> None:
    home, file, x, b = sides
    labels = _labels(sides, "undo")
    assert "undo journal written" in labels
    for i, label in enumerate(labels):
        command = ("docs", "undo")[i % 2]
        with _trial(home) as paths:
            restore(paths, file)
            _kill(paths, "undo", file, label)
            assert set(b.values()) | set(x.values()) <= _everything(paths.data.parent), label
            NEXT[command](paths, file)
            now, kept = _state(paths), _state(paths, "undo")
            if command == "undo" and label.endswith("ended"):  # it had ended: the retry redoes the restore
                assert (now, kept) == (x, b), (label, command)
            elif command == "undo":  # the retried undo is done once
                assert (now, kept) == (b, x), (label, command)
            else:
                assert (now, kept) in ((b, x), (x, b)), (label, command)


@pytest.mark.parametrize("op", ["restore", "undo"])
def test_ctrl_c_at_any_step_rolls_back_at_once(sides, op: str) -> None:
    home, file, _, _ = sides
    for label in _labels(sides, op):
        with _trial(home) as paths:
            if op == "undo":
                restore(paths, file)
            before, kept_before = _state(paths), _state(paths, "undo")

            def interrupt(at: str, label: str = label) -> None:
                if at == label:
                    raise KeyboardInterrupt

            archive.checkpoint = interrupt
            try:
                with pytest.raises(KeyboardInterrupt):
                    restore(paths, file) if op == "restore" else undo(paths)
            except pytest.fail.Exception:  # the interrupt fell in the last tidying: the swap was done
                assert label.endswith(("tidied config", "ended")), label
                continue
            finally:
                archive.checkpoint = None
            if _state(paths) != before:  # stopped while finishing: the swap is complete
                assert "finishing" in label or "tidied" in label or "ended" in label, label
                continue
            assert _state(paths, "undo") == kept_before, label
            assert recover(paths.data) is None or _state(paths) == before, label
            assert not (paths.data / ".restore" / "in").exists() and not (paths.data / ".restore" / "out").exists()
            assert can_undo(paths) == (op == "undo")


def test_the_next_command_says_it_finished_a_killed_restore(sides) -> None:
    home, file, _, _ = sides
    label = next(x for x in _labels(sides, "restore") if x.startswith("restore forward step 1 moved"))
    with _trial(home) as paths:
        _kill(paths, "restore", file, label)
        env = {**os.environ, "ASSISTANT_HOME": str(paths.data.parent)}
        run = [sys.executable, "-m", "assistant"]
        docs = subprocess.run([*run, "docs"], capture_output=True, text=True, timeout=300, env=env)
        assert docs.returncode == 0, docs.stderr
        assert "warning: finished a 'restore' that was stopped" in docs.stderr
        assert "plan.md" in docs.stdout and "later.txt" not in docs.stdout
        back = subprocess.run([*run, "restore", "--undo"], capture_output=True, text=True, timeout=300, env=env)
        assert back.returncode == 0, back.stderr
        assert {d.name for d in DocumentStore(paths.documents).list()} == set(B_DOCS)
