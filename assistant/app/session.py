"""The open document as far as saving goes: its name, the text version the store holds, a failed save and its
retry. Plain Python (no Textual): the app asks it what to do and tells the user."""

from __future__ import annotations

import threading
from collections.abc import Callable

from assistant.store.documents import StoreError

Writer = Callable[[str, str], object]
"""Writes a document's text under its name (raises OSError or StoreError when it cannot)."""


class DocumentSession:
    """Which document is open and whether the store has what the editor holds. Writes from a worker thread and
    the UI thread take turns."""

    def __init__(self, write: Writer, read_only: bool = False) -> None:
        self._write = write
        self._lock = threading.Lock()
        self.read_only = read_only
        """Another window owns the documents: nothing is written."""
        self.name = ""
        """The open document ('' when none)."""
        self.saved_version = 0
        """The editor's text version the store holds."""
        self.failed = False
        """The last save failed (and is being retried)."""

    def open(self, name: str, version: int) -> None:
        """``name`` is open, its text (at ``version``) as the store has it; '' closes."""
        self.name = name
        self.saved_version = version
        self.failed = False

    def renamed(self, name: str) -> None:
        """The open document is stored under ``name`` now."""
        self.name = name

    def dirty(self, version: int) -> bool:
        """True when the editor, at ``version``, holds changes the store does not have yet."""
        return bool(self.name) and version != self.saved_version

    def needs_saving(self, version: int) -> bool:
        """True when a save would write something."""
        return self.dirty(version) and not self.read_only

    def write(self, name: str, text: str) -> str:
        """Write ``text`` as document ``name`` (any thread); '' or the reason it failed."""
        with self._lock:
            try:
                self._write(name, text)
            except (OSError, StoreError) as exc:
                return str(exc)
        return ""

    def saved(self, name: str, version: int) -> bool:
        """A write of ``name`` at ``version`` succeeded; True when it ends a run of failed saves."""
        if name != self.name:
            return False
        recovered, self.failed = self.failed, False
        self.saved_version = max(self.saved_version, version)
        return recovered

    def fail(self) -> bool:
        """A save failed; True for the first failure of a run (the one to tell the user about)."""
        first, self.failed = not self.failed, True
        return first

    def save_on_close(self, text: str, version: int) -> None:
        """The editor is going away: write what it holds if unsaved (a failure is lost with the window)."""
        if self.needs_saving(version) and not self.write(self.name, text):
            self.saved_version = version

    def describe(self, version: int) -> str:
        """The status line's left part: the document and its save state."""
        if not self.name:
            return "no document"
        if self.read_only:
            return f"{self.name} · read-only"
        if self.failed:
            return f"{self.name} · NOT SAVED (retrying)"
        return f"{self.name} · {'editing' if self.dirty(version) else 'saved'}"
