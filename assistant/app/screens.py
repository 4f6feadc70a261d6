"""Modal screens: help, yes/no confirmation, a one-line prompt and the settings form."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, Switch

from assistant.app.keys import help_rows
from assistant.store.settings import MAX_WORDS, Settings

KEYS = help_rows()
"""(key, what it does), from the app's one key table."""

ABOUT = (
    "Ghost text is the dim text after the cursor: the rest of the word you are typing, or a whole phrase when the "
    "model is confident. Typing the same characters keeps it; anything else, or moving the cursor, clears it. "
    "The model learns from your documents in the background (F9: settings); the status line shows its version."
)


def keys_table() -> Table:
    """Every key, one line each."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True, width=max(len(key) for key, _ in KEYS))
    table.add_column()
    for key, what in KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    """Every key of the app."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: auto; max-height: 90%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    HelpScreen .about { margin-top: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "Esc closes"
            yield Static(keys_table())
            yield Static(ABOUT, classes="about")


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; Esc means no."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "no", "No"), Binding("y", "yes", "Yes", show=False)]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 60; height: auto; border: thick $error; background: $surface; padding: 1 2; }
    ConfirmScreen Horizontal { height: auto; margin-top: 1; }
    ConfirmScreen Button { margin-right: 2; }
    """

    def __init__(self, question: str, yes: str = "Delete") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button(self.yes, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; Enter answers, Esc cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical { width: 70; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    """

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(self.value, placeholder=self.placeholder)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SettingsScreen(ModalScreen[Settings | None]):
    """The settings of ``settings.toml`` that the app uses, as a form; Save returns the new settings."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    SettingsScreen > Vertical { width: 76; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    SettingsScreen Grid { grid-size: 2; grid-columns: 1fr 16; grid-rows: 3; height: auto; }
    SettingsScreen Grid > Label { padding: 1 0; }
    SettingsScreen #problems { color: $error; height: auto; }
    SettingsScreen Horizontal { height: auto; margin-top: 1; }
    SettingsScreen Button { margin-right: 2; }
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical():
            with Grid():
                yield Label("Suggestions")
                yield Switch(s.suggest.enabled, id="enabled")
                yield Label(f"Candidates in the suggestion bar (1-{MAX_WORDS})")
                yield Input(str(s.suggest.words), type="integer", id="words")
                yield Label("Phrase ghost text")
                yield Switch(s.suggest.phrase, id="phrase")
                yield Label("Phrase confidence threshold (0-1)")
                yield Input(str(s.suggest.phrase_threshold), type="number", id="phrase_threshold")
                yield Label("Learn in the background")
                yield Switch(s.learn.auto, id="auto")
                yield Label("… after this many new words")
                yield Input(str(s.learn.after_words), type="integer", id="after_words")
            yield Label("", id="problems")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        result = self._read()
        if isinstance(result, str):
            self.query_one("#problems", Label).update(result)
        else:
            self.dismiss(result)

    def _read(self) -> Settings | str:
        """The form's settings, or what is wrong with them."""
        try:
            words = int(self.query_one("#words", Input).value)
            threshold = float(self.query_one("#phrase_threshold", Input).value)
            after = int(self.query_one("#after_words", Input).value)
        except ValueError:
            return "Numbers only, please."
        if not 1 <= words <= MAX_WORDS:
            return f"Candidates: 1 to {MAX_WORDS}."
        if not 0 < threshold <= 1:
            return "The phrase threshold is a probability: above 0, at most 1."
        if after < 1:
            return "Learn after at least 1 word."
        s = self.settings
        return replace(
            s,
            suggest=replace(
                s.suggest,
                enabled=self.query_one("#enabled", Switch).value,
                words=words,
                phrase=self.query_one("#phrase", Switch).value,
                phrase_threshold=threshold,
            ),
            learn=replace(s.learn, auto=self.query_one("#auto", Switch).value, after_words=after),
            problems=[],
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
