"""The main screen: the document list, the editor with ghost text, the suggestion bar and the status line. It turns
the editor's text and cursor into suggestion requests and shows the answers; the app owns everything else."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea
from textual.worker import get_current_worker

from assistant.app.editor import GhostEditor
from assistant.app.ghost import ghost_for
from assistant.app.messages import Key
from assistant.app.widgets import DocumentList, StatusLine, SuggestionBar
from assistant.personal import Suggestions, partial_word

if TYPE_CHECKING:
    from assistant.app.app import WriterApp


class MainScreen(Screen[None]):
    """Where the person writes."""

    document_state: reactive[str] = reactive("no document", layout=False)
    """The status line's left part: the open document and its save state."""
    model_state: reactive[str] = reactive("loading the model…", layout=False)
    """The status line's right part: the model and what learning is doing."""
    learn_progress: reactive[tuple[int, int | None] | None] = reactive(None, layout=False)
    """(step, total) of the running fine-tune, None when none runs."""
    document_language: reactive[str] = reactive("", layout=False)
    """The open document's language as the predictor last detected it, when not English ('' otherwise)."""

    @dataclass
    class SuggestionsReady(Message):
        """A worker's answer for the text and cursor of ``key``."""

        key: Key
        suggestions: Suggestions
        rest_of_line: str
        """The text after the cursor on its line (the ghost text must not repeat it)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown_key: Key | None = None
        """The text version and cursor of the suggestions on screen (benchmarks and tests wait on it)."""
        self.shown_at = 0.0
        """``time.perf_counter()`` when they were put there."""
        self._requested: Key | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield DocumentList(id="documents")
            yield GhostEditor(id="editor")
        yield SuggestionBar(id="bar")
        yield StatusLine(id="status").data_bind(
            MainScreen.document_state, MainScreen.model_state, MainScreen.learn_progress, MainScreen.document_language
        )
        yield Footer()

    def on_mount(self) -> None:
        self.writer.main_screen_ready()

    @property
    def writer(self) -> WriterApp:
        return cast("WriterApp", self.app)

    @property
    def editor(self) -> GhostEditor:
        return self.query_one("#editor", GhostEditor)

    @property
    def bar(self) -> SuggestionBar:
        return self.query_one("#bar", SuggestionBar)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    # -- suggestions ------------------------------------------------------------------------------------------
    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        if event.text_area is self.editor:
            self.request_suggestions()

    def request_suggestions(self, force: bool = False) -> None:
        """Ask for suggestions for the editor's text and cursor (unless asked already, or ``force``)."""
        editor = self.editor
        key: Key = (editor.text_version, editor.selection)
        if key == self._requested and not force:
            return
        self._requested = key
        app = self.writer
        suggest = app.settings.suggest
        if app.read_only or not suggest.enabled or not app.service.ready:
            return
        if not editor.selection.is_empty:
            self.clear_candidates()
            return
        before, rest = editor.text_around_cursor()
        self._suggest(key, before, rest, suggest.words, suggest.phrase)

    @work(thread=True, exclusive=True, group="suggest")
    def _suggest(self, key: Key, before: str, rest: str, n: int, phrase: bool) -> None:
        worker = get_current_worker()
        suggestions = self.writer.service.suggest(before, n, phrase, lambda: worker.is_cancelled)
        if suggestions is not None and not worker.is_cancelled:
            self.post_message(self.SuggestionsReady(key, suggestions, rest))

    def on_main_screen_suggestions_ready(self, message: SuggestionsReady) -> None:
        editor = self.editor
        if message.key != (editor.text_version, editor.selection):
            return  # the text or cursor moved on: a newer answer is coming
        editor.show_ghost(ghost_for(message.suggestions, message.rest_of_line, self.writer.settings.suggest.phrase))
        self.bar.show(message.suggestions)
        language = message.suggestions.language
        self.document_language = "" if language == "en" else message.suggestions.language_name
        editor.candidates = len(message.suggestions.words)
        self.shown_key = message.key
        self.shown_at = time.perf_counter()

    def clear_candidates(self) -> None:
        """Empty the suggestion bar."""
        self.bar.show(None)
        self.editor.candidates = 0

    def rejectable(self) -> tuple[str, str] | None:
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
        if shown is None or number > len(shown.words) or self.writer.read_only:
            return
        before, _ = self.editor.text_around_cursor()
        self.editor.insert_word(partial_word(before)[1], shown.separator + shown.words[number - 1].word)
