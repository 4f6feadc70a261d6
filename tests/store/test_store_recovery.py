"""The store survives what trials did to it: reserved names, damaged manifests, odd files, killed writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.store.documents import LEGACY_MANIFEST, MANIFEST, DocumentStore

ROOT = Path(__file__).parents[2]


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "data" / "documents")


# -- issue 15 item 1: the store's own files are out of the documents' namespace ----------------------------------
def test_a_document_named_manifest_json_keeps_its_text(store: DocumentStore, tmp_path: Path) -> None:
    src = tmp_path / "manifest.json"
    src.write_text('{"my": "settings", "words": "mine"}', encoding="utf-8")
    [r] = store.import_paths([src], 10_000)
    assert r.status == "imported" and r.detail == "manifest.json"
    store.save("other.txt", "more text")
    assert store.read("manifest.json") == '{"my": "settings", "words": "mine"}'
    assert {d.name for d in DocumentStore(store.root).list()} == {"manifest.json", "other.txt"}


def test_a_store_with_the_old_manifest_name_is_moved_over(tmp_path: Path) -> None:
    root = tmp_path / "documents"
    root.mkdir()
    (root / "a.txt").write_text("alpha", encoding="utf-8")
    entry = {"name": "a.txt", "sha256": "0" * 64, "size": 5, "created": 1.0, "modified": 2.0, "source": "/x/a.txt"}
    (root / LEGACY_MANIFEST).write_text(json.dumps({"version": 1, "documents": [entry]}), encoding="utf-8")
    store = DocumentStore(root)
    [doc] = store.list()
    assert doc.name == "a.txt" and doc.source == "/x/a.txt" and doc.created == 1.0
    assert not (root / LEGACY_MANIFEST).exists() and (root / MANIFEST).is_file()


# -- issue 15 item 2: a damaged manifest is kept aside and rebuilt; nothing is dropped ------------------------------
@pytest.mark.parametrize("damage", ["{", "{}", '{"documents": 3}', '{"documents": [{"name": 1}]}', "\xff\xfe"])
def test_a_damaged_manifest_is_rebuilt_from_the_files(store: DocumentStore, tmp_path: Path, damage: str) -> None:
    store.save("a.txt", "alpha text")
    store.save("b.md", "beta text")
    (store.root / MANIFEST).write_bytes(damage.encode("latin-1"))
    again = DocumentStore(store.root)
    assert [d.name for d in again.list()] == ["a.txt", "b.md"]
    assert any("damaged" in n and "rebuilt" in n for n in again.notices)
    kept = list(store.root.glob(".manifest.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == damage.encode("latin-1")
    src = tmp_path / "c.txt"
    src.write_text("gamma text", encoding="utf-8")
    assert again.import_paths([src], 1000)[0].status == "imported"
    assert [d.name for d in DocumentStore(store.root).list()] == ["a.txt", "b.md", "c.txt"]


def test_damage_while_open_is_repaired_too(store: DocumentStore) -> None:
    store.save("a.txt", "alpha")
    (store.root / MANIFEST).write_text('{"version": 1}')
    store.save("b.txt", "beta")  # the next write must not drop a.txt
    assert [d.name for d in DocumentStore(store.root).list()] == ["a.txt", "b.txt"]


# -- issue 15 item 8 and issue 14 item 12: only regular files, per-file errors, leftovers cleaned -------------------
def test_a_fifo_and_a_device_are_refused_at_once(store: DocumentStore, tmp_path: Path) -> None:
    fifo = tmp_path / "f.txt"
    os.mkfifo(fifo)
    started = time.monotonic()
    results = store.import_paths([fifo, Path("/dev/zero")], 1_000_000)
    assert time.monotonic() - started < 5
    assert [r.status for r in results] == ["refused", "refused"]
    assert "named pipe" in results[0].detail and "device" in results[1].detail


def test_a_folder_with_odd_entries_reports_each(store: DocumentStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.txt").write_text("good text", encoding="utf-8")
    (src / "photo.png").write_bytes(b"\x89PNG")
    (src / "data.dat").write_bytes(b"1 2 3")
    odd = os.fsencode(str(src)) + b"/caf\xe9.txt"  # a file name that is not UTF-8
    with open(odd, "wb") as f:
        f.write(b"odd name text")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for import", encoding="utf-8")
    (src / "link.txt").symlink_to(outside)
    (src / "inside.txt").symlink_to(src / "good.txt")
    os.mkfifo(src / "pipe.txt")
    (src / ".git").mkdir()
    results = {r.label.rsplit("/", 1)[-1]: r for r in store.import_paths([src], 10_000)}
    assert results["good.txt"].status == "imported"
    assert results["photo.png"].status == "skipped" and ".png" in results["photo.png"].detail
    assert results["data.dat"].status == "skipped"
    assert results["caf\ufffd.txt"].status == "imported"
    assert results["link.txt"].status == "skipped" and "outside" in results["link.txt"].detail
    assert results["inside.txt"].status == "duplicate"
    assert results["pipe.txt"].status == "refused"
    assert results[".git"].status == "skipped"
    names = {d.name for d in store.list()}
    assert names == {"good.txt", "caf_.txt"}
    assert not any("not for import" in store.read(n) for n in names)
    followed = store.import_paths([src], 10_000, follow_links=True)
    assert [r.status for r in followed if r.path.name == "link.txt"] == ["imported"]


def test_windows_1252_smart_quotes_are_decoded(store: DocumentStore, tmp_path: Path) -> None:
    src = tmp_path / "letter.txt"
    src.write_bytes("\u201cIt\u2019s fine\u201d \u2013 5\u20ac".encode("cp1252"))
    [r] = store.import_paths([src], 1000)
    assert r.status == "imported" and "windows-1252" in r.detail
    assert store.read("letter.txt") == "\u201cIt\u2019s fine\u201d \u2013 5\u20ac"


def test_leftovers_of_a_killed_import_are_cleaned_on_the_next_start(store: DocumentStore) -> None:
    store.save("a.txt", "alpha")
    (store.root / ".b.txt.k2j3h4.tmp").write_text("half written")
    (store.root / "b.txt").write_text("written but not listed", encoding="utf-8")
    again = DocumentStore(store.root)
    assert [d.name for d in again.list()] == ["a.txt", "b.txt"]
    assert not list(store.root.glob("*.tmp")) and not list(store.root.glob(".*.tmp"))
    assert any("b.txt" in n for n in again.notices)


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from assistant.store.documents import DocumentStore
store = DocumentStore(Path(sys.argv[1]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # the manifest no longer fits: as a full disk
[r] = store.import_paths([Path(sys.argv[2])], 10_000)
print(r.status, r.detail)
"""


def test_a_full_disk_refuses_the_file_and_leaves_nothing_unlisted(store: DocumentStore, tmp_path: Path) -> None:
    for i in range(150):
        store.save(f"document number {i:03d} with a long name.txt", f"text {i}")
    assert (store.root / MANIFEST).stat().st_size > 20_000
    src = tmp_path / "new.txt"
    src.write_text("a small new document", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(store.root), str(src)], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused") and "could not write" in out.stdout
    assert not (store.root / "new.txt").exists()
    assert len(DocumentStore(store.root).list()) == 150


# -- issue 15 item 6: appends and saves from several writers at once lose nothing ------------------------------------
def test_appends_from_four_threads_keep_every_message(tmp_path: Path) -> None:
    import threading

    root = tmp_path / "corpus"

    def writer(k: int) -> None:
        for i in range(25):
            DocumentStore(root).append("chat.txt", f"message {k}-{i}", "chat")

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    text = DocumentStore(root).read("chat.txt")
    assert sorted(text.strip().split("\n\n")) == sorted(f"message {k}-{i}" for k in range(4) for i in range(25))


LEARNER = """
import sys
from pathlib import Path
from assistant.store.documents import DocumentStore
store = DocumentStore(Path(sys.argv[1]))
for i in range(20):
    store.save_for_source(f"file:///{sys.argv[2]}/{i}/notes.md", "notes.md", f"text of {sys.argv[2]} {i}")
"""


def test_two_processes_saving_same_named_files_keep_both(tmp_path: Path) -> None:
    root = tmp_path / "documents"
    procs = [subprocess.Popen([sys.executable, "-c", LEARNER, str(root), tag], cwd=ROOT) for tag in "ab"]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    store = DocumentStore(root)
    texts = {store.read(d.name) for d in store.list()}
    assert texts == {f"text of {tag} {i}" for tag in "ab" for i in range(20)}
