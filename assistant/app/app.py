"""The writing app, its composition root: settings, theme, the model, background learning and quitting. The main
screen (main_screen.py) owns the writing itself: documents, suggestions and their workers."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable
from functools import reduce
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from assistant.app.commands import DocumentCommands
from assistant.app.instance import InstanceLock
from assistant.app.keys import app_bindings, palette_entries
from assistant.app.learning import should_learn
from assistant.app.main_screen import MainScreen
from assistant.app.messages import LearnDone, LearnProgress
from assistant.app.screens import ConfirmScreen, HelpScreen, SettingsScreen
from assistant.app.service import SuggestionService, load_active
from assistant.app.state import AppState
from assistant.app.vocab_screen import VocabScreen
from assistant.personal.finetune import FinetuneConfig, FinetuneOutcome
from assistant.personal.models import BASE, ModelLoadError
from assistant.personal.outcome import held_out_gain, notice
from assistant.personal.space import MODEL_CHECK_S, UserSpace
from assistant.store.paths import Paths
from assistant.store.settings import Settings


def _on_screen(path: str, doc: str) -> property:
    """An attribute of the app that reads and sets ``path`` (dotted) on its main screen (tests look at them)."""
    *parents, last = path.split(".")

    def owner(app: WriterApp) -> object:
        return reduce(getattr, parents, app.main)

    return property(lambda app: getattr(owner(app), last), lambda app, v: setattr(owner(app), last, v), doc=doc)


class WriterApp(App[None]):
    """Write with live suggestions from your own language model."""

    TITLE = "assistant"
    COMMANDS = App.COMMANDS | {DocumentCommands}
    CSS = """
    #main { height: 1fr; }
    #editor { width: 1fr; border: none; padding: 0 1; }
    #editor .text-area--suggestion { color: $text-muted; text-style: italic; }
    MainScreen.-no-sidebar #documents { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = app_bindings()  # type: ignore[assignment]

    def __init__(
        self, paths: Paths | None = None, base_dir: Path | None = None, finetune_config: FinetuneConfig | None = None
    ) -> None:
        super().__init__()
        self.paths = paths or Paths.default()
        self.space = UserSpace.at(self.paths, base_dir)
        """The user's documents, models and fine-tune (the service layer)."""
        self.settings = Settings.load(self.paths.config)
        self.state = AppState.load(self.paths.data)
        self.instance = InstanceLock(self.paths.data)
        self.service = SuggestionService()
        self.finetune_config = finetune_config or FinetuneConfig(threads=1)
        """The background fine-tune's settings (one thread: typing stays responsive)."""
        self.main = MainScreen(self.space, self.settings, self.service, self.state, self.paths.data)
        """The screen with the editor: it owns the documents and the suggestions."""
        self._quit_anyway = False
        self._model_label = ""

    def get_default_screen(self) -> MainScreen:
        return self.main

    # -- what tests and benchmarks read: the main screen's state ----------------------------------------------
    editor = _on_screen("editor", "The editor.")
    bar = _on_screen("bar", "The suggestion bar.")
    status = _on_screen("status", "The status line.")
    shown_key = _on_screen("shown_key", "The text version and cursor of the suggestions on screen.")
    shown_at = _on_screen("shown_at", "``time.perf_counter()`` when they were put there.")
    read_only = _on_screen("read_only", "Another window owns the documents: this one writes nothing.")
    document = _on_screen("documents.name", "The open document ('' when none).")
    dirty = _on_screen("documents.dirty", "The editor holds changes the store does not have yet.")
    save_delay = _on_screen("documents.save_delay", "Seconds from the last change to the autosave.")
    save_retry = _on_screen("documents.save_retry", "Seconds between tries after a failed save.")
    _save_failed = _on_screen("documents.session.failed", "The last save failed.")

    open_document = _on_screen("documents.open", "Show document ``name`` (after saving the open one).")
    _save_now = _on_screen("documents.save_now", "Save the open document now; False if it could not be written.")

    # -- the main screen is up --------------------------------------------------------------------------------
    def on_main_screen_ready(self, _: MainScreen.Ready) -> None:
        """Apply the theme, take the documents (or open read-only), load the model, open the last document."""
        self._apply_theme(self.settings.app.theme)
        for problem in self.settings.problems:
            self.notify(problem, title="Settings", severity="warning", timeout=10)
        if not self.instance.acquire():
            self.main.read_only = True
            message = "Another assistant window is open on these documents; this one is read-only."
            self.notify(message, title="Read-only", severity="warning", timeout=15)
        else:  # private mode is per session: what a session that ended in it held back is learned now
            self.space.end_private()
        self._load_model()
        self.set_interval(MODEL_CHECK_S, self.follow_active_model)
        self.main.documents.open_last()
        self._update_status()

    def on_unmount(self) -> None:
        """After the main screen saved its document: stop learning, write the memory, let the next window write."""
        self.space.stop_finetune()
        self.service.close()
        if not self.read_only:
            with contextlib.suppress(OSError):  # on failure: brought up to date from the documents next time
                self.space.close()  # the personal memory's file
        self.instance.release()

    # -- model ------------------------------------------------------------------------------------------------
    def model_changed(self) -> None:
        """The active model version changed (a fine-tune, a rollback, a reset): load it and answer with it."""
        self._load_model()

    @work(thread=True, exclusive=True, group="model")
    def _load_model(self) -> None:
        try:
            loaded = load_active(self.space, self.settings.suggest.phrase_threshold)
        except (ModelLoadError, OSError) as exc:
            self.call_from_thread(self.notify, f"No model could be loaded: {exc}", severity="error", timeout=30)
            return
        self.service.install(loaded)
        self.call_from_thread(self._model_ready, loaded.version, loaded.warning)

    def follow_active_model(self) -> None:
        """Reload hook (every ``MODEL_CHECK_S``, one ``stat``): another process made another version active (an
        ``assistant finetune`` in a shell, ``model use``, a rollback or a reset): load it, as after a fine-tune here."""
        if self.space.model_changed():
            self.model_changed()

    def _model_ready(self, version: str, warning: str) -> None:
        info = self.space.registry.info(version) if version != BASE else None
        gain = held_out_gain(info.metrics) if info else None
        self._model_label = f"model {version}" + (f" ({gain:+.0f}% on your text)" if gain is not None else "")
        gc.freeze()  # the long-lived objects (model, widgets) leave the collector's full passes: no 150 ms pauses
        if warning:
            self.notify(warning, title="Model", severity="warning", timeout=15)
        self._update_status()
        self.main.request_suggestions(force=True)

    # -- learning ---------------------------------------------------------------------------------------------
    def on_main_screen_words_written(self, message: MainScreen.WordsWritten) -> None:
        self.state.words_since_learn += message.count
        learn = self.settings.learn
        if should_learn(self.state.words_since_learn, learn.auto, learn.after_words) and not self.space.finetuning:
            self.start_learning(quiet=True)

    def start_learning(self, quiet: bool = False) -> None:
        """Fine-tune on the documents in the background (typing goes on; the model swaps in when accepted)."""
        if self.read_only:
            self.notify("Read-only: the other assistant window learns.", severity="warning")
            return
        if self.space.finetuning:
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
        started = self.space.start_finetune(
            self.finetune_config,
            on_progress=lambda p: self.post_message(LearnProgress(p)),
            on_done=lambda o: self.post_message(LearnDone(o)),
        )
        if started is not None:
            self.main.learn_progress = (0, None)
            self._update_status()
            if not quiet:
                self.notify("Learning from your documents in the background…", title="Learning")

    def on_learn_progress(self, message: LearnProgress) -> None:
        if self.main.documents.closed:
            return
        self.main.learn_progress = (message.progress.step, message.progress.total)

    def on_learn_done(self, message: LearnDone) -> None:
        if self.main.documents.closed:
            return  # stopped by quitting: it resumes next time, nothing to show
        self.main.learn_progress = None
        text, severity = notice(message.outcome)
        self.notify(text, title="Learning", severity=severity, timeout=10)  # type: ignore[arg-type]
        outcome = message.outcome
        if isinstance(outcome, FinetuneOutcome) and outcome.status == "accepted":
            self.model_changed()
        self.main.documents.save_state()
        self._update_status()

    def _update_status(self) -> None:
        """The status line's model part: the version, private mode, learning, suggestions off."""
        model = self._model_label or "loading the model…"
        if self.space.private:
            model = f"private · {model}"
        if self.space.finetuning:
            model = f"learning… · {model}"
        elif not self.settings.suggest.enabled:
            model = f"suggestions off · {model}"
        self.main.model_state = model

    # -- settings and theme -----------------------------------------------------------------------------------
    def action_settings(self) -> None:
        def done(settings: Settings | None) -> None:
            if settings is not None:
                self.apply_settings(settings)

        self.push_screen(SettingsScreen(self.settings), done)

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings now and keep them in ``settings.toml``."""
        self.settings = settings
        self.service.set_phrase_threshold(settings.suggest.phrase_threshold)
        self.main.apply_settings(settings)
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
        self.settings.suggest.enabled = not self.settings.suggest.enabled
        self.apply_settings(self.settings)

    def action_toggle_phrase(self) -> None:
        self.settings.suggest.phrase = not self.settings.suggest.phrase
        self.apply_settings(self.settings)

    # -- the keys' actions: the screen's work, or the app's own -----------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_save(self) -> None:
        if self._save_now() and self.document:
            self.notify(f"Saved {self.document}.", timeout=2)

    def action_toggle_sidebar(self) -> None:
        self.main.toggle_sidebar()

    def action_open_list(self) -> None:
        self.main.open_list()

    def action_new_document(self) -> None:
        self.main.documents.ask_new()

    def action_rename_document(self) -> None:
        self.main.documents.ask_rename()

    def action_delete_document(self) -> None:
        self.main.documents.ask_delete()

    def action_import_files(self) -> None:
        self.main.documents.ask_import(self.settings.import_.max_bytes, self.settings.import_.mail_from)

    def action_toggle_no_learn(self) -> None:
        self.main.documents.toggle_no_learn()

    def action_pick(self, number: int) -> None:
        self.main.pick(number)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Ctrl+D rejects only on the main screen; elsewhere (a prompt's input) the key is the widget's own."""
        if action == "reject_suggestion":
            return self.screen is self.main
        return super().check_action(action, parameters)

    def action_reject_suggestion(self) -> None:
        self.main.reject()

    action_learn = start_learning

    def action_cancel_learning(self) -> None:
        if self.space.finetuning:
            self.space.stop_finetune(timeout=0)
            self.notify("Stopping; learning resumes where it left off next time.", title="Learning")

    def action_rollback_model(self) -> None:
        if not self.main.documents.writable("model changes"):
            return
        try:
            name = self.space.registry.rollback()
        except (ValueError, OSError) as exc:
            self.notify(str(exc), title="Model", severity="warning")
            return
        self.notify(f"Rolled back to {name}.", title="Model")
        self.model_changed()

    def action_reset_model(self) -> None:
        if not self.main.documents.writable("model changes"):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.space.registry.reset()
                self.notify("Back to the base model (your versions are kept).", title="Model")
                self.model_changed()

        self.push_screen(ConfirmScreen("Go back to the base model? Your versions are kept.", yes="Reset"), confirmed)

    def action_vocabulary(self) -> None:
        self.push_screen(VocabScreen(self.space))

    def action_toggle_private(self) -> None:
        self.space.private = not self.space.private
        if self.space.private:
            self.notify("Private mode: nothing you write is learned until you turn it off.", title="Private")
        else:
            self.space.sync_memory(save=True)
            self.notify("Private mode is off: learning goes on.", title="Private")
        self._update_status()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, action in palette_entries():
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # -- quitting ---------------------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Save, then quit; a failed save asks for a second Ctrl+Q. (Leaving, the main screen saves what its editor
        holds and its cursor, and unmounting stops learning, which resumes next time.)"""
        if not self._save_now() and not self._quit_anyway:
            self._quit_anyway = True
            self.notify("Press Ctrl+Q again to quit without saving.", title="Save failed", severity="error")
            return
        self.exit()


def run(paths: Paths | None = None) -> int:
    """Start the app (``assistant`` with no arguments)."""
    WriterApp(paths).run()
    return 0
