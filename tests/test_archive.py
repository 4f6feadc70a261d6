"""Export and restore: byte-identical round trip, one undo, and damaged, truncated, changed, unsafe or foreign
archives refused with nothing changed. Real files under a temporary ASSISTANT_HOME, real tar archives."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from assistant.store.archive import MANIFEST, ArchiveError, can_undo, export, restore, undo, verify
from assistant.store.blocklist import Controls
from assistant.store.documents import DocumentStore
from assistant.store.paths import Paths
from assistant.store.settings import Settings


def tree(paths: Paths) -> dict[str, str]:
    """Every file under the data and config folders (restore folder included) with its sha256."""
    out = {}
    for root in (paths.data, paths.config):
        for f in sorted(root.rglob("*")):
            if f.is_file() and not f.name.endswith(".lock"):
                out[str(f.relative_to(root.parent))] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    p = Paths.at(tmp_path / "home")
    store = DocumentStore(p.documents)
    store.save("notes.txt", "Dear Ann,\n\nthe key is in the drawer.\n")
    store.save("unicode.md", "naïve café — 東京 🎉\r\n\ttabs\n")
    version = p.models / "v0001"
    version.mkdir(parents=True)
    (version / "model.safetensors").write_bytes(bytes(range(256)) * 40)
    (version / "version.json").write_text('{"name": "v0001"}', encoding="utf-8")
    (p.models / "active").write_text("v0001", encoding="utf-8")
    (p.data / "memory").mkdir()
    (p.data / "memory" / "ngrams.bin").write_bytes(b"\x00\x01memory")
    Controls.at(p.data).block("wizard")
    settings = Settings()
    settings.suggest.words = 3
    settings.save(p.config)
    return p


def test_export_wipe_restore_gives_back_byte_identical_files(paths: Paths, tmp_path: Path) -> None:
    before = tree(paths)
    archive = tmp_path / "backup.tar.gz"
    summary = export(paths, archive)
    assert summary.files == len(before) and stat.S_IMODE(archive.stat().st_mode) == 0o600
    names = set(verify(archive))
    assert "data/documents/notes.txt" in names and "config/settings.toml" in names
    assert not any(n.endswith(".lock") for n in names)
    for root in (paths.data, paths.config):  # wipe
        shutil.rmtree(root)
    restore(paths, archive)
    after = {k: v for k, v in tree(paths).items() if "/.restore/" not in k}
    assert after == before
    assert (paths.documents / "unicode.md").read_bytes() == "naïve café — 東京 🎉\r\n\ttabs\n".encode()
    assert "wizard" in Controls.at(paths.data).blocked() and Settings.load(paths.config).suggest.words == 3


def test_restore_keeps_what_it_replaced_for_one_undo(paths: Paths, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    original = {k: v for k, v in tree(paths).items() if "/.restore/" not in k}
    store = DocumentStore(paths.documents)
    store.save("later.txt", "written after the backup\n")
    Controls.at(paths.data).block("later")
    changed = {k: v for k, v in tree(paths).items() if "/.restore/" not in k}
    assert not can_undo(paths)
    restore(paths, archive)
    assert {k: v for k, v in tree(paths).items() if "/.restore/" not in k} == original
    assert can_undo(paths)
    undo(paths)
    assert {k: v for k, v in tree(paths).items() if "/.restore/" not in k} == changed
    assert DocumentStore(paths.documents).read("later.txt") == "written after the backup\n"
    undo(paths)  # undoing the undo redoes the restore
    assert {k: v for k, v in tree(paths).items() if "/.restore/" not in k} == original


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None], manifest_edit=None) -> None:
    """Copy an archive member by member, replacing (or dropping, with None) some members' content."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for m in tin:
            data = tin.extractfile(m).read()
            if m.name == MANIFEST and manifest_edit is not None:
                raw = json.loads(data)
                manifest_edit(raw)
                data = json.dumps(raw).encode()
            if m.name in change:
                if change[m.name] is None:
                    continue
                data = change[m.name]
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))


def _refused(paths: Paths, archive: Path, match: str) -> None:
    before = tree(paths)
    with pytest.raises(ArchiveError, match=match) as exc:
        restore(paths, archive)
    assert "nothing was changed" in str(exc.value)
    assert tree(paths) == before
    assert not (paths.data / ".restore").exists()


def test_a_truncated_archive_is_refused(paths: Paths, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    _refused(paths, cut, "damaged or truncated|incomplete")


def test_an_archive_with_a_changed_file_is_refused(paths: Paths, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    bad = tmp_path / "changed.tar.gz"
    _rewrite(archive, bad, {"data/documents/notes.txt": b"Dear Ann,\n\nthe key is in the garden.\n"})
    _refused(paths, bad, "does not match its checksum")
    dropped = tmp_path / "dropped.tar.gz"
    _rewrite(archive, dropped, {"data/memory/ngrams.bin": None})
    _refused(paths, dropped, "incomplete")


@pytest.mark.parametrize("name", ["../x", "data/../../x", "/etc/x", "data/./x", "elsewhere/x"])
def test_an_archive_with_an_unsafe_path_is_refused(paths: Paths, tmp_path: Path, name: str) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    evil = tmp_path / "evil.tar.gz"
    payload = b"owned\n"

    def add(raw: dict) -> None:
        raw["files"][name] = {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}

    with tarfile.open(archive, "r:gz") as tin, tarfile.open(evil, "w:gz") as tout:
        for m in tin:
            data = tin.extractfile(m).read()
            if m.name == MANIFEST:
                raw = json.loads(data)
                add(raw)
                data = json.dumps(raw).encode()
            info = tarfile.TarInfo(m.name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        tout.addfile(info, io.BytesIO(payload))
    _refused(paths, evil, "path")
    assert not (tmp_path / "x").exists() and not (paths.data.parent / "x").exists()


def test_links_unlisted_members_and_foreign_archives_are_refused(paths: Paths, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    linked = tmp_path / "linked.tar.gz"
    with tarfile.open(archive, "r:gz") as tin, tarfile.open(linked, "w:gz") as tout:
        for m in tin:
            tout.addfile(m, tin.extractfile(m))
        link = tarfile.TarInfo("data/documents/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tout.addfile(link)
    _refused(paths, linked, "not a plain file")

    extra = tmp_path / "extra.tar.gz"
    with tarfile.open(archive, "r:gz") as tin, tarfile.open(extra, "w:gz") as tout:
        for m in tin:
            tout.addfile(m, tin.extractfile(m))
        info = tarfile.TarInfo("data/documents/sneaky.txt")
        info.size = 3
        tout.addfile(info, io.BytesIO(b"hi\n"))
    _refused(paths, extra, "does not list")

    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tout:
        info = tarfile.TarInfo("README")
        info.size = 2
        tout.addfile(info, io.BytesIO(b"hi"))
    _refused(paths, foreign, "not an assistant archive")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"PK\x03\x04 not a tar at all")
    _refused(paths, junk, "damaged or truncated")
    newer = tmp_path / "newer.tar.gz"
    _rewrite(archive, newer, {}, manifest_edit=lambda raw: raw.update(version=2))
    _refused(paths, newer, "format version 2")


def test_undo_without_a_restore_and_export_into_the_store_are_refused(paths: Paths) -> None:
    with pytest.raises(ArchiveError, match="no restore to undo"):
        undo(paths)
    with pytest.raises(ArchiveError, match="outside"):
        export(paths, paths.documents / "backup.tar.gz")
