"""The document store: imports of good and bad files, atomic writes, locking between processes, privacy."""

from __future__ import annotations

import codecs
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.atomic import atomic_write_bytes
from assistant.store.documents import MANIFEST, DocumentStore
from assistant.store.settings import Settings
from assistant.store.textfile import NotText, decode_document

ROOT = Path(__file__).parents[2]


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "data" / "documents")


def test_import_reports_each_file_and_loses_nothing(store: DocumentStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "notes.md").write_text("# Notes\nSome ideas.\n", encoding="utf-8")
    (src / "sub" / "letter.txt").write_text("Dear Anna,\r\nthanks!\r\n", encoding="utf-8")
    (src / "latin.txt").write_bytes("Café crème à la carte".encode("latin-1"))
    (src / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + "Grüße aus Köln".encode("utf-16-le"))
    (src / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (src / "empty.txt").write_bytes(b"")
    (src / "huge.txt").write_text("word " * 300_000, encoding="utf-8")
    (src / "copy.txt").write_text("# Notes\nSome ideas.\n", encoding="utf-8")
    (src / "skip.bin").write_bytes(b"\x00\x01")
    results = {r.path.name: r for r in store.import_paths([src], max_bytes=1_000_000)}
    assert results["skip.bin"].status == "skipped"  # folders contribute text files only, saying so
    # Folder files go in sorted order: copy.txt first, so notes.md is the duplicate.
    assert results["copy.txt"].status == "imported"
    assert results["notes.md"].status == "duplicate" and results["notes.md"].detail == "copy.txt"
    assert results["letter.txt"].status == "imported"
    assert results["latin.txt"].status == "imported" and "latin-1" in results["latin.txt"].detail
    assert results["utf16.txt"].status == "imported"
    assert results["image.txt"].status == "refused" and "binary" in results["image.txt"].detail
    assert results["empty.txt"].status == "refused" and "empty" in results["empty.txt"].detail
    assert results["huge.txt"].status == "refused" and "limit" in results["huge.txt"].detail
    dup = results["copy.txt"] if results["copy.txt"].status == "duplicate" else results["notes.md"]
    assert dup.status == "duplicate"
    names = {d.name for d in store.list()}
    assert names == {"notes.md", "letter.txt", "latin.txt", "utf16.txt"} or names == {
        "copy.txt",
        "letter.txt",
        "latin.txt",
        "utf16.txt",
    }
    assert store.read("latin.txt") == "Café crème à la carte"
    assert store.read("utf16.txt") == "Grüße aus Köln"
    assert store.read("letter.txt") == "Dear Anna,\nthanks!\n"


def test_missing_paths_are_refused(store: DocumentStore, tmp_path: Path) -> None:
    [r] = store.import_paths([tmp_path / "nope.txt"], max_bytes=100)
    assert r.status == "refused" and "no such" in r.detail


def test_same_names_get_numbered(store: DocumentStore, tmp_path: Path) -> None:
    for i in range(3):
        d = tmp_path / f"d{i}"
        d.mkdir()
        (d / "todo.txt").write_text(f"list {i}", encoding="utf-8")
        store.import_paths([d / "todo.txt"], 1000)
    assert [d.name for d in store.list()] == ["todo (2).txt", "todo (3).txt", "todo.txt"]


def test_files_are_private(store: DocumentStore) -> None:
    store.save("diary.txt", "secret")
    assert stat.S_IMODE(store.path("diary.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE((store.root / MANIFEST).stat().st_mode) == 0o600


def test_save_rename_remove(store: DocumentStore) -> None:
    first = store.save("a/b:c.txt", "one")
    assert first.name == "a_b_c.txt"
    again = store.save("a_b_c.txt", "two")
    assert again.created == first.created and again.sha256 != first.sha256
    store.rename("a_b_c.txt", "plan.txt")
    assert store.read("plan.txt") == "two"
    store.remove("plan.txt")
    assert store.list() == [] and not store.path("plan.txt").exists()
    with pytest.raises(KeyError):
        store.remove("plan.txt")


def test_damaged_manifest_is_reported_and_rebuilt(store: DocumentStore) -> None:
    store.save("x.txt", "x")
    (store.root / MANIFEST).write_text("{broken")
    again = DocumentStore(store.root)
    assert [d.name for d in again.list()] == ["x.txt"]
    assert any("damaged" in n for n in again.notices)


def test_decode_rules() -> None:
    assert decode_document("naïve".encode()).encoding == "utf-8"
    assert decode_document(codecs.BOM_UTF8 + b"x").text == "x"
    with pytest.raises(NotText, match="whitespace"):
        decode_document(b"  \n ")
    with pytest.raises(NotText, match="control"):
        decode_document(bytes(range(1, 32)) * 50)


WRITER = """
import sys, time
from assistant.atomic import atomic_open
with atomic_open(sys.argv[1]) as f:
    for _ in range(200):
        f.write(b"new content " * 1000)
        f.flush()
        time.sleep(0.02)
"""


def test_a_write_killed_half_way_leaves_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "doc.txt"
    atomic_write_bytes(target, b"old content")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=ROOT)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_bytes() == b"old content"


IMPORTER = """
import sys
from pathlib import Path
from assistant.store.documents import DocumentStore
store = DocumentStore(Path(sys.argv[1]))
for i in range(15):
    p = Path(sys.argv[2]) / f"{sys.argv[3]}-{i}.txt"
    p.write_text(f"document {sys.argv[3]} number {i}")
    [r] = store.import_paths([p], 10_000)
    assert r.status == "imported", r
"""


def test_two_processes_import_at_once(tmp_path: Path) -> None:
    root = tmp_path / "data" / "documents"
    src = tmp_path / "src"
    src.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", IMPORTER, str(root), str(src), tag], cwd=ROOT) for tag in "ab"]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    manifest = json.loads((root / MANIFEST).read_text())
    assert len(manifest["documents"]) == 30
    assert len(DocumentStore(root).list()) == 30


def test_settings_fall_back_on_bad_values(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[import]\nmax_bytes = -3\nfoo = 1\n[suggest]\nwords = 7\n")
    s = Settings.load(tmp_path)
    assert s.import_.max_bytes == 5_000_000 and s.suggest.words == 7
    assert len(s.problems) == 2
    (tmp_path / "settings.toml").write_text("not toml [")
    assert Settings.load(tmp_path).problems
    Settings().save(tmp_path)
    assert Settings.load(tmp_path).problems == []


def test_when_to_suggest_settings_take_zero_and_refuse_negatives(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[suggest]\ndebounce_ms = 0\nafter_delete = false\non_demand = true\n")
    s = Settings.load(tmp_path)
    assert (s.suggest.debounce_ms, s.suggest.after_delete, s.suggest.on_demand, s.problems) == (0, False, True, [])
    (tmp_path / "settings.toml").write_text("[suggest]\ndebounce_ms = -5\n")
    s = Settings.load(tmp_path)
    assert s.suggest.debounce_ms == 0 and "not a non-negative int" in s.problems[0]


def test_cli_import_docs_and_paths(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home")}
    (tmp_path / "a.txt").write_text("hello there", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x00\x01\x02")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
        )

    out = run("import", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert out.returncode == 0, out.stderr
    assert "1 imported, 0 duplicate, 1 refused" in out.stdout and "binary" in out.stdout
    docs = json.loads(run("docs", "--json").stdout)
    assert [d["name"] for d in docs] == ["a.txt"]
    assert run("docs", "--remove", "a.txt").returncode == 0
    assert json.loads(run("docs", "--json").stdout) == []
    paths = json.loads(run("paths", "--json").stdout)
    assert paths["documents"].startswith(str(tmp_path / "home"))
