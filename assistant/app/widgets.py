"""The app's smaller widgets: the suggestion bar, the status line and the document list."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label, OptionList, ProgressBar
from textual.widgets.option_list import Option

from assistant.engine.predictor import Suggestions


class SuggestionBar(Widget):
    """The top candidates for the word at the cursor, numbered for Alt+1..9 (repaints without a layout pass)."""

    DEFAULT_CSS = """
    SuggestionBar { height: 1; padding: 0 1; background: $boost; color: $text-muted; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.suggestions: Suggestions | None = None
        self._text = Text()

    def show(self, suggestions: Suggestions | None) -> None:
        """Show these candidates (None or no words: an empty bar)."""
        self.suggestions = suggestions
        text = self.render_candidates(suggestions)
        if text.plain != self._text.plain or text.spans != self._text.spans:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return self._text

    @staticmethod
    def render_candidates(suggestions: Suggestions | None) -> Text:
        """``1 word 42%  2 ...`` with the typed prefix of each word dimmed."""
        text = Text(no_wrap=True, overflow="ellipsis")
        if suggestions is None or not suggestions.words:
            return text
        for i, candidate in enumerate(suggestions.words[:9], start=1):
            if i > 1:
                text.append("   ")
            text.append(f"{i} ", style="bold")
            text.append(suggestions.prefix, style="dim")
            text.append(candidate.word[len(suggestions.prefix) :], style="bold")
            share = f"{candidate.probability:.0%}" if candidate.probability >= 0.005 else "<1%"
            text.append(f" {share}", style="dim")
        return text


class StatusLine(Horizontal):
    """Document, save state, model version and the progress of background learning; bound to the app's state
    (``data_bind``), so nothing else touches its labels."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; padding: 0 1; }
    StatusLine > #status-text { width: 1fr; }
    StatusLine > #status-model { width: auto; margin-left: 2; color: $text-muted; }
    StatusLine > #status-language { width: auto; margin-left: 2; display: none; }
    StatusLine.-language > #status-language { display: block; }
    StatusLine > ProgressBar { width: auto; margin-left: 2; display: none; }
    StatusLine.learning > ProgressBar { display: block; }
    """

    document_state: reactive[str] = reactive("", layout=False)
    """The left part: document name and save state."""
    model_state: reactive[str] = reactive("", layout=False)
    """The right part: model version and what learning is doing."""
    learn_progress: reactive[tuple[int, int | None] | None] = reactive(None, layout=False)
    """(step, total steps or None) of a running fine-tune; None hides the bar."""
    document_language: reactive[str] = reactive("", layout=False)
    """The open document's language when it is not English ('' hides it)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._text = Label("", id="status-text")
        self._progress = ProgressBar(total=None, show_eta=True, id="status-progress")
        self._model = Label("", id="status-model")
        self._language = Label("", id="status-language")

    def compose(self) -> ComposeResult:
        yield self._text
        yield self._progress
        yield self._language
        yield self._model

    def watch_document_state(self, text: str) -> None:
        self._text.update(text)

    def watch_model_state(self, text: str) -> None:
        self._model.update(text)

    def watch_document_language(self, text: str) -> None:
        self._language.update(text)
        self.set_class(bool(text), "-language")

    def watch_learn_progress(self, progress: tuple[int, int | None] | None) -> None:
        if progress is None:
            self.remove_class("learning")
            return
        self.add_class("learning")
        step, total = progress
        self._progress.update(total=total, progress=step)


class DocumentList(OptionList):
    """The user's documents; selecting one opens it."""

    DEFAULT_CSS = """
    DocumentList { width: 28; border: none; border-right: tall $panel-lighten-2; }
    """

    def set_documents(self, names: list[str], current: str) -> None:
        """Replace the list, highlighting ``current``."""
        self.clear_options()
        self.add_options([Option(name, id=name) for name in names])
        if current in names:
            self.highlighted = names.index(current)
