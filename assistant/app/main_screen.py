"""The main screen: the document list, the editor with ghost text, the suggestion bar and the status line. It owns
the work of writing: the documents (through its :class:`DocumentController`) and the suggestions for the editor's
text and cursor. The app hands it settings and the suggestion service (attributes down); the screen tells the app
what happened (messages up)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, OptionList, TextArea

from assistant.app.documents import DocumentController
from assistant.app.editor import GhostEditor
from assistant.app.ghost import ghost_for
from assistant.app.messages import Key
from assistant.app.service import SuggestionService
from assistant.app.state import AppState
from assistant.app.widgets import DocumentList, StatusLine, SuggestionBar
from assistant.personal import Suggestions, partial_word
from assistant.personal.space import UserSpace
from assistant.store.blocklist import ControlsError
from assistant.store.settings import Settings

ANSWER_WAIT_S = 0.015
"""How long a keystroke waits for its suggestions before the screen is drawn without them (they follow as a
message): the usual answer comes well within it, so the edit and its ghost text reach the screen in one frame."""


class MainScreen(Screen[None]):
    """Where the person writes."""

    document_state: reactive[str] = reactive("no document", layout=False)
    """The status line's left part: the open document and its save state."""
    model_state: reactive[str] = reactive("loading the model…", layout=False)
    """The status line's right part: the model and what learning is doing (set by the app)."""
    learn_progress: reactive[tuple[int, int | None] | None] = reactive(None, layout=False)
    """(step, total) of the running fine-tune, None when none runs (set by the app)."""
    document_language: reactive[str] = reactive("", layout=False)
    """The open document's language as the predictor last detected it, when not English ('' otherwise)."""

    @dataclass
    class Ready(Message):
        """The screen's widgets are mounted: the app may load the model and let the screen open a document."""

    @dataclass
    class WordsWritten(Message):
        """The writer finished ``count`` more words (the app counts them toward learning)."""

        count: int

    @dataclass
    class SuggestionsReady(Message):
        """A worker's answer for the text and cursor of ``key``."""

        key: Key
        suggestions: Suggestions
        rest_of_line: str
        """The text after the cursor on its line (the ghost text must not repeat it)."""

    def __init__(
        self, space: UserSpace, settings: Settings, service: SuggestionService, state: AppState, data_dir: Path
    ) -> None:
        super().__init__()
        self.space = space
        """The user's documents, controls and memory (the service layer)."""
        self.settings = settings
        """The app's settings (the app replaces them through :meth:`apply_settings`)."""
        self.service = service
        """The predictor the suggestion worker asks."""
        self.editor = GhostEditor(id="editor")
        self.bar = SuggestionBar(id="bar")
        self.status = StatusLine(id="status")
        self.listing = DocumentList(id="documents")
        self.documents = DocumentController(
            self, self.editor, self.listing, space, state, data_dir, self._show_document_state
        )
        """The open document, its saving and the other documents."""
        self.shown_key: Key | None = None
        """The text version and cursor of the suggestions on screen (benchmarks and tests wait on it)."""
        self.shown_at = 0.0
        """``time.perf_counter()`` when they were put there."""
        self._requested: Key | None = None
        self._words_counted = 0
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield self.listing
            yield self.editor
        yield self.bar
        yield self.status.data_bind(
            MainScreen.document_state, MainScreen.model_state, MainScreen.learn_progress, MainScreen.document_language
        )
        yield Footer()

    def on_mount(self) -> None:
        self.editor.tab_indents = self.settings.app.tab_indents
        self.post_message(self.Ready())

    def on_unmount(self) -> None:
        self.documents.close()

    @property
    def read_only(self) -> bool:
        """Another window owns the documents: this one shows them but writes nothing."""
        return self.documents.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self.documents.read_only = value

    def _show_document_state(self, text: str) -> None:
        self.document_state = text

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings from now on."""
        self.settings = settings
        self.editor.tab_indents = settings.app.tab_indents
        if not settings.suggest.enabled:
            self.editor.hide_ghost()
            self.clear_candidates()
        self.request_suggestions(force=True)

    def toggle_sidebar(self) -> None:
        """Show or hide the document list."""
        self.toggle_class("-no-sidebar")
        if self.has_class("-no-sidebar"):
            self.editor.focus()

    def open_list(self) -> None:
        """Show the document list, up to date, and go there."""
        self.remove_class("-no-sidebar")
        self.documents.refresh_list()
        self.listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.documents.open(event.option.id)

    # -- the one entry point: the text or the cursor changed --------------------------------------------------
    @on(TextArea.Changed, "#editor")
    @on(TextArea.SelectionChanged, "#editor")
    def _editor_changed(self, event: TextArea.Changed) -> None:
        """The editor's text or cursor changed: keep the document's state and ask for suggestions."""
        event.stop()
        if self.documents.edited():
            self._count_words()
        self.request_suggestions()

    def _count_words(self) -> None:
        new = self.editor.words_written - self._words_counted
        if new > 0:
            self._words_counted = self.editor.words_written
            self.post_message(self.WordsWritten(new))

    # -- suggestions ------------------------------------------------------------------------------------------
    def request_suggestions(self, force: bool = False, asked: bool = False) -> None:
        """Ask for suggestions for the editor's text and cursor (unless asked already, or ``force``). With
        ``[suggest] on_demand`` only the writer's key (``asked``) asks; with ``debounce_ms`` the question waits
        for a pause in typing."""
        editor = self.editor
        key: Key = (editor.text_version, editor.selection)
        if key == self._requested and not (force or asked):
            return
        self._requested = key
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        suggest = self.settings.suggest
        if self.read_only or not suggest.enabled or not self.service.ready:
            return
        if not editor.selection.is_empty or (suggest.on_demand and not asked):
            self.clear_candidates()
            return
        if suggest.debounce_ms > 0 and not asked:
            self._debounce = self.set_timer(suggest.debounce_ms / 1000, self._ask)
            return
        self._ask()

    def _ask(self) -> None:
        self._debounce = None
        editor = self.editor
        key: Key = (editor.text_version, editor.selection)
        if key != self._requested:
            return  # moved on meanwhile; that change asked again
        before, rest = editor.text_around_cursor()
        suggest = self.settings.suggest
        question = self.service.ask(before, suggest.words, suggest.phrase)
        wait = 0.0 if question.queued else ANSWER_WAIT_S  # behind a slow answer: draw the edit now
        answer = question.wait(wait, lambda late: self.post_message(self.SuggestionsReady(key, late, rest)))
        if answer is not None:
            self._show(key, answer, rest)

    def on_ghost_editor_ask(self, message: GhostEditor.Ask) -> None:
        self.request_suggestions(asked=True)

    def on_main_screen_suggestions_ready(self, message: SuggestionsReady) -> None:
        self._show(message.key, message.suggestions, message.rest_of_line)

    def _show(self, key: Key, suggestions: Suggestions, rest_of_line: str) -> None:
        """Put the answer for ``key`` on screen: ghost text, the bar, the candidates Alt+digit picks."""
        editor = self.editor
        if key != (editor.text_version, editor.selection):
            return  # the text or cursor moved on: a newer answer is coming
        suggest = self.settings.suggest
        quiet = editor.last_change == "undo" or (editor.last_change == "delete" and not suggest.after_delete)
        editor.show_ghost("" if quiet else ghost_for(suggestions, rest_of_line, suggest.phrase))
        self.bar.show(suggestions)
        self.document_language = "" if suggestions.language == "en" else suggestions.language_name
        editor.candidates = len(suggestions.words)
        self.shown_key = key
        self.shown_at = time.perf_counter()

    def clear_candidates(self) -> None:
        """Empty the suggestion bar."""
        self.bar.show(None)
        self.editor.candidates = 0

    def reject(self) -> None:
        """Reject the ghost text (else the first candidate) where it stands: not offered in this context again,
        and blocked after ``privacy.block_after_rejections`` rejections."""
        rejected = self._rejectable()
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
        self.request_suggestions(force=True)

    def _rejectable(self) -> tuple[str, str] | None:
        """(text before the word being typed, suggestion) for the reject key: the ghost text from the start of
        its word, else the first candidate; None when nothing is shown."""
        shown = self.bar.suggestions
        if shown is None or self.shown_key != (self.editor.text_version, self.editor.selection):
            return None
        before, _ = self.editor.text_around_cursor()
        before = before[: len(before) - len(shown.prefix)]
        ghost = self.editor.suggestion
        if ghost:
            return before, (shown.prefix + ghost).strip()
        if shown.words:
            return before, shown.words[0].word
        return None

    def on_ghost_editor_pick(self, message: GhostEditor.Pick) -> None:
        self.pick(message.number)

    def pick(self, number: int) -> None:
        """Insert candidate ``number`` of the suggestion bar in place of the word being typed."""
        shown = self.bar.suggestions
        if shown is None or number > len(shown.words) or self.read_only:
            return
        before, _ = self.editor.text_around_cursor()
        self.editor.insert_word(partial_word(before)[1], shown.separator + shown.words[number - 1].word)
