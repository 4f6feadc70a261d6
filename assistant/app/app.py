"""The writing app: documents, an editor with ghost text, a suggestion bar, background learning."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import OptionList, TextArea

from assistant.app.commands import DocumentCommands
from assistant.app.editor import GhostEditor
from assistant.app.instance import InstanceLock
from assistant.app.keys import app_bindings, palette_entries
from assistant.app.learning import Learner, describe, held_out_gain, should_learn
from assistant.app.main_screen import MainScreen
from assistant.app.messages import Key, LearnDone, LearnProgress
from assistant.app.screens import ConfirmScreen, HelpScreen, PromptScreen, SettingsScreen
from assistant.app.service import SuggestionService, load_active
from assistant.app.session import DocumentSession
from assistant.app.state import AppState
from assistant.app.vocab_screen import VocabScreen
from assistant.app.widgets import DocumentList, StatusLine, SuggestionBar
from assistant.personal.finetune import FinetuneConfig, FinetuneOutcome
from assistant.personal.models import BASE, ModelLoadError
from assistant.personal.space import UserSpace
from assistant.store.blocklist import ControlsError
from assistant.store.documents import StoreError, safe_name
from assistant.store.paths import Paths
from assistant.store.settings import Settings

SAVE_DELAY_S = 1.0
"""Autosave this long after the last change."""
SAVE_RETRY_S = 5.0
"""After a failed save, try again this often (the text stays in the editor meanwhile)."""


class WriterApp(App[None]):
    """Write with live suggestions from your own language model."""

    TITLE = "assistant"
    COMMANDS = App.COMMANDS | {DocumentCommands}
    CSS = """
    #main { height: 1fr; }
    #editor { width: 1fr; border: none; padding: 0 1; }
    #editor .text-area--suggestion { color: $text-muted; text-style: italic; }
    WriterApp.-no-sidebar #documents { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = app_bindings()  # type: ignore[assignment]

    def __init__(
        self,
        paths: Paths | None = None,
        base_dir: Path | None = None,
        finetune_config: FinetuneConfig | None = None,
    ) -> None:
        super().__init__()
        self.paths = paths or Paths.default()
        self.space = UserSpace.at(self.paths, base_dir)
        """The user's documents, models and fine-tune (the service layer)."""
        self.store = self.space.store
        self.registry = self.space.registry
        self.settings = Settings.load(self.paths.config)
        self.state = AppState.load(self.paths.data)
        self.instance = InstanceLock(self.paths.data)
        self.session = DocumentSession(self.space.save)
        """The open document and its save state."""
        self.service = SuggestionService()
        self.learner = Learner(self.space, finetune_config)
        self.main = MainScreen()
        """The screen with the editor."""
        self.save_delay = SAVE_DELAY_S
        self.save_retry = SAVE_RETRY_S
        self._save_timer = None
        self._quit_anyway = False
        self._words_counted = 0
        self._model_label = ""

    # -- the main screen --------------------------------------------------------------------------------------
    def get_default_screen(self) -> MainScreen:
        return self.main

    @property
    def editor(self) -> GhostEditor:
        return self.main.editor

    @property
    def bar(self) -> SuggestionBar:
        return self.main.bar

    @property
    def status(self) -> StatusLine:
        return self.main.status

    @property
    def shown_key(self) -> Key | None:
        """The text version and cursor of the suggestions on screen (benchmarks and tests wait on it)."""
        return self.main.shown_key

    @property
    def shown_at(self) -> float:
        """``time.perf_counter()`` when they were put there."""
        return self.main.shown_at

    def main_screen_ready(self) -> None:
        """The main screen is up (its widgets are mounted): take the documents, load the model, open the last
        document."""
        self._apply_theme(self.settings.app.theme)
        self.editor.tab_indents = self.settings.app.tab_indents
        for problem in self.settings.problems:
            self.notify(problem, title="Settings", severity="warning", timeout=10)
        if not self.instance.acquire():
            self.session.read_only = True
            self.editor.read_only = True
            self.notify(
                "Another assistant window is open on these documents; this one is read-only.",
                title="Read-only",
                severity="warning",
                timeout=15,
            )
        self._load_model()
        names = self.document_names()
        if self.state.last_document in names:
            self.open_document(self.state.last_document)
        elif names:
            self.open_document(names[0])
        elif not self.read_only:
            self._create_document("Untitled")
        self.editor.focus()

    @property
    def document(self) -> str:
        """The name of the open document ('' when none)."""
        return self.session.name

    @property
    def read_only(self) -> bool:
        """Another window owns the documents: this one shows them but writes nothing."""
        return self.session.read_only

    @property
    def _save_failed(self) -> bool:
        return self.session.failed

    @property
    def _closing_down(self) -> bool:
        """True once the app is quitting (its widgets may be gone)."""
        try:
            return not self.query("#status")
        except ScreenStackError:
            return True

    def on_unmount(self) -> None:
        self.learner.stop()
        if not self.read_only:
            with contextlib.suppress(OSError):  # on failure: brought up to date from the documents next time
                self.space.close()  # the personal memory's file
        self.instance.release()

    # -- documents --------------------------------------------------------------------------------------------
    def document_names(self) -> list[str]:
        """Every document in the store ([] if the store cannot be read; the user is told why)."""
        try:
            return [d.name for d in self.store.list()]
        except StoreError as exc:
            self.notify(str(exc), title="Documents", severity="error", timeout=15)
            return []

    def _refresh_list(self) -> None:
        self.query_one(DocumentList).set_documents(self.document_names(), self.document)

    def open_document(self, name: str) -> None:
        """Save the open document, then show ``name`` with its last cursor position."""
        if name == self.document:
            self.editor.focus()
            return
        if self.document and not self._save_now():
            return  # keep the unsaved text on screen; the error was shown
        try:
            text = self.store.read(name)
        except (OSError, KeyError, UnicodeDecodeError, StoreError) as exc:
            self.notify(f"Cannot open {name}: {exc}", title="Open", severity="error", timeout=10)
            return
        self._remember_cursor()
        self.editor.load_text(text)
        self.session.open(name, self.editor.text_version)
        self.space.edit(name)
        row, col = self.state.cursors.get(name, (0, 0))
        row = min(row, self.editor.document.line_count - 1)
        self.editor.move_cursor((row, min(col, len(self.editor.document[row]))))
        self.sub_title = name
        self.state.last_document = name
        self._save_state()
        self._refresh_list()
        self._update_status()
        self.editor.focus()

    def _create_document(self, wanted: str) -> None:
        names = set(self.document_names())
        base = safe_name(wanted)
        name, n = base, 2
        while name in names:
            name, n = f"{base} {n}", n + 1
        try:
            self.space.save(name, "")
        except (OSError, StoreError) as exc:
            self.notify(f"Cannot create {name}: {exc}", title="New document", severity="error", timeout=10)
            return
        self.open_document(name)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.open_document(event.option.id)

    def _remember_cursor(self) -> None:
        if self.document:
            self.state.cursors[self.document] = self.editor.cursor_location

    def _save_state(self) -> None:
        if self.read_only:
            return
        try:
            self.state.save(self.paths.data)
        except OSError as exc:
            self.notify(f"Cannot remember the session: {exc}", severity="warning")

    # -- saving -----------------------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when the editor holds changes the store does not have yet."""
        return self.session.dirty(self.editor.text_version)

    def _schedule_save(self, delay: float | None = None) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(self.save_delay if delay is None else delay, self._autosave)

    def _autosave(self) -> None:
        if not self._closing_down and self.session.needs_saving(self.editor.text_version):
            self._save_worker(self.document, self.editor.text, self.editor.text_version)

    @work(thread=True, group="save")
    def _save_worker(self, name: str, text: str, version: int) -> None:
        error = self.session.write(name, text)
        self.call_from_thread(self._saved, name, version, error)

    def _saved(self, name: str, version: int, error: str) -> None:
        if name != self.document or self._closing_down:
            return
        if error:
            self._failed_save(error, self.session.fail())
            return
        if self.session.saved(name, version):
            self.notify(f"Saved {name} after all.", title="Saved")
        self._update_status()

    def _failed_save(self, error: str, first: bool) -> None:
        self._update_status()
        self._schedule_save(self.save_retry)
        if not first:
            return  # the status line says NOT SAVED until it works
        self.notify(
            f"Could not save {self.document}: {error}. Your text stays here; retrying every {self.save_retry:.0f} s.",
            title="Save failed",
            severity="error",
            timeout=10,
        )

    def _save_now(self) -> bool:
        """Save the open document on this thread; False (and a message) if it could not be written."""
        version = self.editor.text_version
        if not self.session.needs_saving(version):
            return True
        error = self.session.write(self.document, self.editor.text)
        self._saved(self.document, version, error)
        return not error

    def save_on_close(self, text: str, version: int, cursor: tuple[int, int]) -> None:
        """The editor is going away (quit, a closed terminal, any exit): write what it holds if it is unsaved, and
        remember where its cursor was."""
        self.session.save_on_close(text, version)
        if self.document:
            self.state.cursors[self.document] = cursor
        self._save_state()

    # -- suggestions ------------------------------------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is not self.editor or not self.document:
            return
        if self.dirty:
            self._schedule_save()
            self._count_words()
        self._update_status()
        self.main.request_suggestions()

    def action_pick(self, number: int) -> None:
        """Insert candidate ``number`` of the suggestion bar in place of the word being typed."""
        self.main.pick(number)

    # -- model ------------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="model")
    def _load_model(self) -> None:
        try:
            loaded = load_active(self.space, self.settings.suggest.phrase_threshold)
        except (ModelLoadError, OSError) as exc:
            self.call_from_thread(self.notify, f"No model could be loaded: {exc}", severity="error", timeout=30)
            return
        self.service.install(loaded)
        self.call_from_thread(self._model_ready, loaded.version, loaded.warning)

    def _model_ready(self, version: str, warning: str) -> None:
        info = self.registry.info(version) if version != BASE else None
        gain = held_out_gain(info.metrics) if info else None
        self._model_label = f"model {version}" + (f" ({gain:+.0f}% on your text)" if gain is not None else "")
        gc.freeze()  # the long-lived objects (model, widgets) leave the collector's full passes: no 150 ms pauses
        if warning:
            self.notify(warning, title="Model", severity="warning", timeout=15)
        self._update_status()
        self.main.request_suggestions(force=True)

    # -- learning ---------------------------------------------------------------------------------------------
    def _count_words(self) -> None:
        new = self.editor.words_written - self._words_counted
        if new <= 0:
            return
        self._words_counted = self.editor.words_written
        self.state.words_since_learn += new
        learn = self.settings.learn
        if should_learn(self.state.words_since_learn, learn.auto, learn.after_words) and not self.learner.running:
            self.start_learning(quiet=True)

    def start_learning(self, quiet: bool = False) -> None:
        """Fine-tune on the documents in the background (typing goes on; the model swaps in when accepted)."""
        if self.read_only:
            self.notify("Read-only: the other assistant window learns.", severity="warning")
            return
        if self.learner.running:
            if not quiet:
                self.notify("Learning is already running.")
            return
        if self.space.private:
            if not quiet:
                self.notify("Private mode: nothing is learned until you turn it off.", title="Private")
            return
        if not self._save_now():
            return
        self.state.words_since_learn = 0
        started = self.learner.start(
            on_progress=lambda p: self.post_message(LearnProgress(p)),
            on_done=lambda o: self.post_message(LearnDone(o)),
        )
        if started:
            self.main.learn_progress = (0, None)
            self._update_status()
            if not quiet:
                self.notify("Learning from your documents in the background…", title="Learning")

    def on_learn_progress(self, message: LearnProgress) -> None:
        if self._closing_down:
            return
        p = message.progress
        self.main.learn_progress = (p.step, p.total)

    def on_learn_done(self, message: LearnDone) -> None:
        if self._closing_down:
            return  # stopped by quitting: it resumes next time, nothing to show
        self.main.learn_progress = None
        text, severity = describe(message.outcome)
        self.notify(text, title="Learning", severity=severity, timeout=10)  # type: ignore[arg-type]
        outcome = message.outcome
        if isinstance(outcome, FinetuneOutcome) and outcome.status == "accepted":
            self._load_model()
        self._save_state()
        self._update_status()

    # -- status -----------------------------------------------------------------------------------------------
    def _update_status(self) -> None:
        self.main.document_state = self.session.describe(self.editor.text_version)
        model = self._model_label or "loading the model…"
        if self.space.private:
            model = f"private · {model}"
        if self.learner.running:
            model = f"learning… · {model}"
        elif not self.settings.suggest.enabled:
            model = f"suggestions off · {model}"
        self.main.model_state = model

    # -- actions ----------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_save(self) -> None:
        if self._save_now() and self.document:
            self.notify(f"Saved {self.document}.", timeout=2)

    def action_toggle_sidebar(self) -> None:
        self.toggle_class("-no-sidebar")
        if self.has_class("-no-sidebar"):
            self.editor.focus()

    def action_open_list(self) -> None:
        self.remove_class("-no-sidebar")
        self._refresh_list()
        self.query_one(DocumentList).focus()

    def _writable(self, what: str) -> bool:
        if self.read_only:
            self.notify(f"Read-only: {what} is for the other assistant window.", severity="warning")
        return not self.read_only

    def action_new_document(self) -> None:
        if not self._writable("a new document"):
            return

        def created(name: str | None) -> None:
            if name:
                self._create_document(name)

        self.push_screen(PromptScreen("Name of the new document:", "Untitled"), created)

    def action_rename_document(self) -> None:
        if not self.document or not self._writable("renaming"):
            return
        old = self.document

        def renamed(new: str | None) -> None:
            if not new or new == old:
                return
            if not self._save_now():
                return
            try:
                doc = self.space.rename(old, new)
            except (KeyError, ValueError, OSError, StoreError) as exc:
                self.notify(f"Cannot rename {old}: {exc}", severity="error")
                return
            self.state.renamed(old, doc.name)
            self.session.renamed(doc.name)
            self.sub_title = doc.name
            self._save_state()
            self._refresh_list()
            self._update_status()

        self.push_screen(PromptScreen(f"Rename {old} to:", old), renamed)

    def action_delete_document(self) -> None:
        if not self.document or not self._writable("deleting"):
            return
        name = self.document

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
            names = self.document_names()
            if names:
                self.open_document(names[0])
            else:
                self._create_document("Untitled")

        self.push_screen(ConfirmScreen(f"Delete {name}? This cannot be undone."), confirmed)

    def action_import_files(self) -> None:
        if not self._writable("importing"):
            return

        def chosen(path: str | None) -> None:
            if path:
                self._import(Path(path).expanduser())

        self.push_screen(PromptScreen("Import a text file or a folder of them:", placeholder="~/notes"), chosen)

    @work(thread=True, group="import")
    def _import(self, path: Path) -> None:
        if not path.exists():
            self.call_from_thread(self.notify, f"{path} does not exist.", title="Import", severity="error")
            return
        try:
            results = self.space.import_paths([path], self.settings.import_.max_bytes, self.settings.import_.mail_from)
        except (OSError, StoreError) as exc:
            self.call_from_thread(self.notify, f"Import failed: {exc}", title="Import", severity="error")
            return
        self.call_from_thread(self._imported, results)

    def _imported(self, results: list) -> None:
        imported = [r for r in results if r.status == "imported"]
        for r in results:
            if r.status == "refused":
                self.notify(f"{r.path}: {r.detail}", title="Not imported", severity="warning", timeout=10)
            elif r.status == "duplicate":
                self.notify(f"{r.path}: already here as {r.detail}", title="Import")
        if imported:
            self.notify(f"Imported {len(imported)} document(s).", title="Import")
            self._refresh_list()
            self.open_document(imported[0].detail)

    def action_learn(self) -> None:
        self.start_learning()

    def action_settings(self) -> None:
        def done(settings: Settings | None) -> None:
            if settings is not None:
                self.apply_settings(settings)

        self.push_screen(SettingsScreen(self.settings), done)

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings now and keep them in ``settings.toml``."""
        self.settings = settings
        self.editor.tab_indents = settings.app.tab_indents
        self.service.set_phrase_threshold(settings.suggest.phrase_threshold)
        if not settings.suggest.enabled:
            self.editor.hide_ghost()
            self.main.clear_candidates()
        self.main.request_suggestions(force=True)
        self._update_status()
        self._save_settings()

    def _save_settings(self) -> None:
        if self.read_only:
            return
        try:
            self.settings.save(self.paths.config)
        except OSError as exc:
            self.notify(f"Cannot save the settings: {exc}", severity="error")

    def _apply_theme(self, theme: str) -> None:
        if theme == self.theme:
            return
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"Unknown theme {theme!r}; using {self.theme}.", title="Settings", severity="warning")

    def watch_theme(self, theme: str) -> None:
        if self.is_mounted and theme != self.settings.app.theme:
            self.settings.app.theme = theme
            self._save_settings()

    def action_toggle_suggestions(self) -> None:
        s = self.settings
        s.suggest.enabled = not s.suggest.enabled
        self.apply_settings(s)

    def action_toggle_phrase(self) -> None:
        s = self.settings
        s.suggest.phrase = not s.suggest.phrase
        self.apply_settings(s)

    def action_rollback_model(self) -> None:
        if not self._writable("model changes"):
            return
        try:
            name = self.registry.rollback()
        except (ValueError, OSError) as exc:
            self.notify(str(exc), title="Model", severity="warning")
            return
        self.notify(f"Rolled back to {name}.", title="Model")
        self._load_model()

    def action_reset_model(self) -> None:
        if not self._writable("model changes"):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.registry.reset()
                self.notify("Back to the base model (your versions are kept).", title="Model")
                self._load_model()

        self.push_screen(ConfirmScreen("Go back to the base model? Your versions are kept.", yes="Reset"), confirmed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Ctrl+D rejects only on the main screen; elsewhere (a prompt's input) the key is the widget's own."""
        if action == "reject_suggestion":
            return self.screen is self.main
        return super().check_action(action, parameters)

    def action_reject_suggestion(self) -> None:
        """Reject the ghost text (else the first candidate) where it stands: not offered in this context again,
        and blocked after ``privacy.block_after_rejections`` rejections."""
        rejected = self.main.rejectable()
        if rejected is None:
            return
        before, suggestion = rejected
        try:
            blocked = self.space.controls().reject(before, suggestion, self.settings.privacy.block_after_rejections)
        except (ValueError, ControlsError) as exc:
            self.notify(str(exc), title="Reject", severity="warning")
            return
        self.editor.hide_ghost()
        if blocked:
            self.notify(f"{suggestion!r} is blocked now (rejected often).", title="Reject")
        self.main.request_suggestions(force=True)

    def action_toggle_no_learn(self) -> None:
        name = self.document
        if not name or not self._writable("learning settings"):
            return
        controls = self.space.controls()
        no_learn = not controls.is_no_learn(name)
        controls.set_no_learn(name, no_learn)
        self.space.sync_memory(save=True)
        state = "is kept out of learning" if no_learn else "is learned from again"
        self.notify(f"{name} {state}.", title="Learning")

    def action_vocabulary(self) -> None:
        self.push_screen(VocabScreen(self.space.controls(), self.space.memory()))

    def action_toggle_private(self) -> None:
        self.space.private = not self.space.private
        if self.space.private:
            self.notify("Private mode: nothing you write is learned until you turn it off.", title="Private")
        else:
            self.space.sync_memory(save=True)
            self.notify("Private mode is off: learning goes on.", title="Private")
        self._update_status()

    def action_cancel_learning(self) -> None:
        if self.learner.running:
            self.learner.stop(timeout=0)
            self.notify("Stopping; learning resumes where it left off next time.", title="Learning")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in palette_entries():
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # -- quitting ---------------------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Save, then quit; a failed save asks for a second Ctrl+Q. (Leaving, the editor hands its text and cursor
        to :meth:`save_on_close`, and unmounting stops learning, which resumes next time.)"""
        if not self._save_now() and not self._quit_anyway:
            self._quit_anyway = True
            self.notify("Press Ctrl+Q again to quit without saving.", title="Save failed", severity="error")
            return
        self.exit()


def run(paths: Paths | None = None) -> int:
    """Start the app (``assistant`` with no arguments)."""
    WriterApp(paths).run()
    return 0
