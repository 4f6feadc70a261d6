"""The main screen's documents: open, new, rename, delete, import, autosave, and the save when the screen goes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from textual.screen import Screen

from assistant.app.editor import GhostEditor
from assistant.app.screens import ConfirmScreen, PromptScreen
from assistant.app.session import DocumentSession
from assistant.app.state import AppState
from assistant.app.widgets import DocumentList
from assistant.personal.space import UserSpace
from assistant.store.documents import StoreError, safe_name

SAVE_DELAY_S = 1.0
"""Autosave this long after the last change."""
SAVE_RETRY_S = 5.0
"""After a failed save, try again this often (the text stays in the editor meanwhile)."""


class DocumentController:
    """Which document the editor shows, and the store kept in step with it. It belongs to a screen (``host``): its
    workers, timers, prompts and notifications are that screen's; ``show_state`` puts the document's save state
    on the status line."""

    def __init__(
        self,
        host: Screen[None],
        editor: GhostEditor,
        listing: DocumentList,
        space: UserSpace,
        state: AppState,
        data_dir: Path,
        show_state: Callable[[str], None],
    ) -> None:
        self.host = host
        self.editor = editor
        self.listing = listing
        self.space = space
        self.state = state
        """What is remembered between runs (the last document, cursors); shared with the app."""
        self.data_dir = data_dir
        self.show_state = show_state
        self.session = DocumentSession(space.save)
        """The open document and its save state."""
        self.save_delay = SAVE_DELAY_S
        """Seconds from the last change to the autosave."""
        self.save_retry = SAVE_RETRY_S
        """Seconds between tries after a failed save."""
        self._save_timer = None
        self._seen_version = -1
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once the screen went away (quitting): nothing is shown any more."""
        return self._closed

    @property
    def name(self) -> str:
        """The open document ('' when none)."""
        return self.session.name

    @property
    def read_only(self) -> bool:
        """Another window owns the documents: this one shows them but writes nothing."""
        return self.session.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self.session.read_only = value
        self.editor.read_only = value

    @property
    def dirty(self) -> bool:
        """True when the editor holds changes the store does not have yet."""
        return self.session.dirty(self.editor.text_version)

    def notify(self, message: str, **kwargs: object) -> None:
        self.host.notify(message, **kwargs)  # type: ignore[arg-type]

    def writable(self, what: str) -> bool:
        """False (and a message) in a read-only window."""
        if self.read_only:
            self.notify(f"Read-only: {what} is for the other assistant window.", severity="warning")
        return not self.read_only

    # -- opening ----------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every document in the store ([] if the store cannot be read; the user is told why)."""
        try:
            return [d.name for d in self.space.store.list()]
        except StoreError as exc:
            self.notify(str(exc), title="Documents", severity="error", timeout=15)
            return []

    def refresh_list(self) -> None:
        """Show the store's documents in the list."""
        self.listing.set_documents(self.names(), self.name)

    def open_last(self) -> None:
        """Open the document of the last session (else the first, else a new one)."""
        names = self.names()
        if self.state.last_document in names:
            self.open(self.state.last_document)
        elif names:
            self.open(names[0])
        elif not self.read_only:
            self.create("Untitled")
        self.editor.focus()

    def open(self, name: str) -> None:
        """Save the open document, then show ``name`` with its last cursor position."""
        if name == self.name:
            self.editor.focus()
            return
        if self.name and not self.save_now():
            return  # keep the unsaved text on screen; the error was shown
        try:
            text = self.space.store.read(name)
        except (OSError, KeyError, UnicodeDecodeError, StoreError) as exc:
            self.notify(f"Cannot open {name}: {exc}", title="Open", severity="error", timeout=10)
            return
        self._remember_cursor()
        editor = self.editor
        editor.load_text(text)
        self.session.open(name, editor.text_version)
        self.space.edit(name)
        row, col = self.state.cursors.get(name, (0, 0))
        row = min(row, editor.document.line_count - 1)
        editor.move_cursor((row, min(col, len(editor.document[row]))))
        self.host.sub_title = name
        self.state.last_document = name
        self.save_state()
        self.refresh_list()
        self.update_status()
        editor.focus()

    def create(self, wanted: str) -> None:
        """Make an empty document named ``wanted`` (numbered if taken) and open it."""
        names = set(self.names())
        base = safe_name(wanted)
        name, n = base, 2
        while name in names:
            name, n = f"{base} {n}", n + 1
        try:
            self.space.save(name, "")
        except (OSError, StoreError) as exc:
            self.notify(f"Cannot create {name}: {exc}", title="New document", severity="error", timeout=10)
            return
        self.open(name)

    def _remember_cursor(self) -> None:
        if self.name:
            self.state.cursors[self.name] = self.editor.cursor_location

    def save_state(self) -> None:
        """Write what is remembered between runs (not in a read-only window)."""
        if self.read_only:
            return
        try:
            self.state.save(self.data_dir)
        except OSError as exc:
            self.notify(f"Cannot remember the session: {exc}", severity="warning")

    def update_status(self) -> None:
        """Put the document's save state on the status line."""
        self.show_state(self.session.describe(self.editor.text_version))

    # -- saving -----------------------------------------------------------------------------------------------
    def edited(self) -> bool:
        """The editor's text may have changed: schedule the autosave and update the status; True if it did."""
        version = self.editor.text_version
        if version == self._seen_version:
            return False
        self._seen_version = version
        if not self.name:
            return False
        if self.dirty:
            self._schedule_save()
        self.update_status()
        return True

    def _schedule_save(self, delay: float | None = None) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.host.set_timer(self.save_delay if delay is None else delay, self._autosave)

    def _autosave(self) -> None:
        if not self._closed and self.session.needs_saving(self.editor.text_version):
            name, text, version = self.name, self.editor.text, self.editor.text_version
            self.host.run_worker(partial(self._save_work, name, text, version), thread=True, group="save")

    def _save_work(self, name: str, text: str, version: int) -> None:
        error = self.session.write(name, text)
        self.host.app.call_from_thread(self._saved, name, version, error)

    def _saved(self, name: str, version: int, error: str) -> None:
        if name != self.name or self._closed:
            return
        if error:
            self._failed_save(error, self.session.fail())
            return
        if self.session.saved(name, version):
            self.notify(f"Saved {name} after all.", title="Saved")
        self.update_status()

    def _failed_save(self, error: str, first: bool) -> None:
        self.update_status()
        self._schedule_save(self.save_retry)
        if not first:
            return  # the status line says NOT SAVED until it works
        self.notify(
            f"Could not save {self.name}: {error}. Your text stays here; retrying every {self.save_retry:.0f} s.",
            title="Save failed",
            severity="error",
            timeout=10,
        )

    def save_now(self) -> bool:
        """Save the open document on this thread; False (and a message) if it could not be written."""
        version = self.editor.text_version
        if not self.session.needs_saving(version):
            return True
        error = self.session.write(self.name, self.editor.text)
        self._saved(self.name, version, error)
        return not error

    def close(self) -> None:
        """The screen is going away (quit, a closed terminal, any exit): write what the editor holds if it is
        unsaved, and remember where its cursor was."""
        self._closed = True
        self.session.save_on_close(self.editor.text, self.editor.text_version)
        self._remember_cursor()
        self.save_state()

    # -- new, rename, delete, import --------------------------------------------------------------------------
    def ask_new(self) -> None:
        """Ask for a name, then create that document."""
        if not self.writable("a new document"):
            return

        def created(name: str | None) -> None:
            if name:
                self.create(name)

        self.host.app.push_screen(PromptScreen("Name of the new document:", "Untitled"), created)

    def ask_rename(self) -> None:
        """Ask for a new name of the open document, then rename it."""
        if not self.name or not self.writable("renaming"):
            return
        old = self.name

        def renamed(new: str | None) -> None:
            if not new or new == old or not self.save_now():
                return
            try:
                doc = self.space.rename(old, new)
            except (KeyError, ValueError, OSError, StoreError) as exc:
                self.notify(f"Cannot rename {old}: {exc}", severity="error")
                return
            self.state.renamed(old, doc.name)
            self.session.renamed(doc.name)
            self.host.sub_title = doc.name
            self.save_state()
            self.refresh_list()
            self.update_status()

        self.host.app.push_screen(PromptScreen(f"Rename {old} to:", old), renamed)

    def ask_delete(self) -> None:
        """Ask, then delete the open document and open another one."""
        if not self.name or not self.writable("deleting"):
            return
        name = self.name

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.space.remove(name)
            except (KeyError, OSError, StoreError) as exc:
                self.notify(f"Cannot delete {name}: {exc}", severity="error")
                return
            self.state.forget(name)
            self.editor.load_text("")
            self.session.open("", self.editor.text_version)
            self.notify(f"Deleted {name}.")
            names = self.names()
            if names:
                self.open(names[0])
            else:
                self.create("Untitled")

        self.host.app.push_screen(ConfirmScreen(f"Delete {name}? This cannot be undone."), confirmed)

    def ask_import(self, max_bytes: int, mail_from: Sequence[str] = ()) -> None:
        """Ask for a file, a folder or a mailbox, then import it (files over ``max_bytes`` are refused; of a
        mailbox only mail sent from ``mail_from``, when given)."""
        if not self.writable("importing"):
            return

        def chosen(path: str | None) -> None:
            if path:
                work = partial(self._import_work, Path(path).expanduser(), max_bytes, tuple(mail_from))
                self.host.run_worker(work, thread=True, group="import")

        self.host.app.push_screen(
            PromptScreen("Import a text file or a folder of them:", placeholder="~/notes"), chosen
        )

    def _import_work(self, path: Path, max_bytes: int, mail_from: tuple[str, ...]) -> None:
        call = self.host.app.call_from_thread
        if not path.exists():
            call(self.notify, f"{path} does not exist.", title="Import", severity="error")
            return
        try:
            results = self.space.import_paths([path], max_bytes, mail_from)
        except (OSError, StoreError) as exc:
            call(self.notify, f"Import failed: {exc}", title="Import", severity="error")
            return
        call(self._imported, results)

    def _imported(self, results: list) -> None:
        imported = [r for r in results if r.status == "imported"]
        for r in results:
            if r.status == "refused":
                self.notify(f"{r.path}: {r.detail}", title="Not imported", severity="warning", timeout=10)
            elif r.status == "duplicate":
                self.notify(f"{r.path}: already here as {r.detail}", title="Import")
        if imported:
            self.notify(f"Imported {len(imported)} document(s).", title="Import")
            self.refresh_list()
            self.open(imported[0].detail)

    def toggle_no_learn(self) -> None:
        """Keep the open document out of learning, or let it be learned from again."""
        name = self.name
        if not name or not self.writable("learning settings"):
            return
        controls = self.space.controls()
        no_learn = not controls.is_no_learn(name)
        controls.set_no_learn(name, no_learn)
        self.space.sync_memory(save=True)
        state = "is kept out of learning" if no_learn else "is learned from again"
        self.notify(f"{name} {state}.", title="Learning")
