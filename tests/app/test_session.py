"""The document session: what is saved, a failed save and its retry, read-only windows. Real files."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from assistant.app.session import DocumentSession
from assistant.store.documents import DocumentStore


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "documents")


def test_a_session_knows_what_the_store_holds(store: DocumentStore) -> None:
    session = DocumentSession(store.save)
    assert session.describe(0) == "no document" and not session.dirty(5)
    session.open("a.txt", 3)
    assert not session.dirty(3) and session.dirty(4) and session.describe(4) == "a.txt · editing"
    assert session.write("a.txt", "hello") == ""
    assert not session.saved("b.txt", 4)  # an answer for another document changes nothing
    assert not session.saved("a.txt", 4) and not session.dirty(4) and session.describe(4) == "a.txt · saved"
    session.saved("a.txt", 2)  # a late answer for an older version
    assert session.saved_version == 4
    session.renamed("b.txt")
    assert session.describe(4) == "b.txt · saved"
    assert store.read("a.txt") == "hello"


def test_a_failed_save_is_reported_once_and_its_retry_says_so(store: DocumentStore) -> None:
    full = True

    def write(name: str, text: str) -> None:
        if full:
            raise OSError(errno.ENOSPC, "No space left on device")
        store.save(name, text)

    session = DocumentSession(write)
    session.open("a.txt", 1)
    assert "No space left" in session.write("a.txt", "text")
    assert session.fail() and not session.fail()  # only the first failure of a run is told
    assert session.describe(2) == "a.txt · NOT SAVED (retrying)" and session.dirty(2)
    full = False
    assert session.write("a.txt", "text") == ""
    assert session.saved("a.txt", 2)  # the retry worked: say so
    assert session.describe(2) == "a.txt · saved" and store.read("a.txt") == "text"
    session.open("b.txt", 7)
    assert not session.failed


def test_a_read_only_session_writes_nothing_even_on_close(store: DocumentStore) -> None:
    session = DocumentSession(store.save, read_only=True)
    session.open("a.txt", 1)
    assert session.dirty(2) and not session.needs_saving(2)
    session.save_on_close("text", 2)
    assert store.list() == [] and session.describe(2) == "a.txt · read-only"
    writable = DocumentSession(store.save)
    writable.open("a.txt", 1)
    writable.save_on_close("closing text", 2)
    assert store.read("a.txt") == "closing text" and not writable.dirty(2)
