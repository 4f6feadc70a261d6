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

from assistant.store.archive import MANIFEST, ArchiveError, Limits, can_undo, export, restore, undo, verify
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


def _with_document(src: Path, dst: Path, name: str, data: bytes, listed_size: int | None = None) -> None:
    """Copy an archive and add one document (listed in the manifest with its real size unless told)."""
    digest = hashlib.sha256(data).hexdigest()

    def add(raw: dict) -> None:
        raw["files"][name] = {"sha256": digest, "size": len(data) if listed_size is None else listed_size}

    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for m in tin:
            body = tin.extractfile(m).read()
            if m.name == MANIFEST:
                raw = json.loads(body)
                add(raw)
                body = json.dumps(raw).encode()
            info = tarfile.TarInfo(m.name)
            info.size = len(body)
            tout.addfile(info, io.BytesIO(body))
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tout.addfile(info, io.BytesIO(data))


def _refused_with(paths: Paths, archive: Path, match: str, limits: Limits) -> None:
    before = tree(paths)
    with pytest.raises(ArchiveError, match=match) as exc:
        restore(paths, archive, limits)
    assert "nothing was changed" in str(exc.value)
    assert tree(paths) == before and not (paths.data / ".restore").exists()


def test_restore_applies_the_import_rules_and_an_archive_limit_before_unpacking(paths: Paths, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    nul = tmp_path / "nul.tar.gz"
    _with_document(archive, nul, "data/documents/zeros.txt", b"\x00" * 300_000)
    # a document larger than the import limit is refused from the manifest, before a byte is unpacked
    _refused_with(paths, nul, r"zeros.txt.* 300,000 bytes, more than the import limit of 1,000 bytes", Limits(1000))
    # within the limit, a document must be text
    _refused_with(paths, nul, r"zeros.txt.* is not text: binary", Limits(1_000_000))
    # the whole archive has a limit too
    total = sum(e["size"] for e in verify(archive).values())
    _refused_with(paths, archive, rf"add up to {total:,} bytes, more than the archive limit", Limits(1000, total - 1))
    # a document of the store within the limits, and an empty one, restore as usual
    fine = tmp_path / "fine.tar.gz"
    _with_document(archive, fine, "data/documents/empty.txt", b"")
    restore(paths, fine, Limits(1000, total + 10))
    assert (paths.documents / "empty.txt").read_bytes() == b""


def test_a_manifest_that_lies_about_a_huge_document_is_refused_at_once(paths: Paths, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    export(paths, archive)
    lying = tmp_path / "lying.tar.gz"
    _with_document(archive, lying, "data/documents/huge.txt", b"hello\n", listed_size=300 << 20)
    _refused_with(paths, lying, r"huge.txt.* 314,572,800 bytes, more than the import limit", Limits())


def test_a_huge_manifest_is_refused_with_a_message_that_says_so(paths: Paths, tmp_path: Path) -> None:
    huge = tmp_path / "huge.tar.gz"
    body = b'{"format": "assistant-archive", "version": 1, "files": {}, "pad": "' + b" " * (17 << 20) + b'"}'
    with tarfile.open(huge, "w:gz") as tout:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        tout.addfile(info, io.BytesIO(body))
    _refused_with(paths, huge, r"its manifest has [\d,]+ bytes, more than the 16,777,216 bytes", Limits())


def test_export_into_a_folder_writes_a_dated_archive_and_a_missing_parent_is_an_error(
    paths: Paths, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    summary = export(paths, backups)
    assert summary.path.parent == backups and summary.path.name.startswith("assistant-backup-")
    assert (
        summary.path.name.endswith(".tar.gz")
        and set(verify(summary.path))
        and list(backups.iterdir()) == [summary.path]
    )
    with pytest.raises(ArchiveError, match="does not exist"):
        export(paths, tmp_path / "no" / "such" / "dir" / "b.tar.gz")
    assert not (tmp_path / "no").exists()
