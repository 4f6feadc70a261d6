"""The vocabulary screen: the words you blocked (unblock one with U or Delete) and the words learned from your
documents, most used first."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static

from assistant.personal.memory import PersonalMemory
from assistant.store.blocklist import Controls

LEARNED_SHOWN = 40
"""Learned words listed (most used first)."""


class VocabScreen(ModalScreen[None]):
    """Blocked words (unblock with U or Delete) and learned words."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("u,delete", "unblock", "Unblock"),
    ]
    DEFAULT_CSS = """
    VocabScreen { align: center middle; }
    VocabScreen > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    VocabScreen OptionList { height: auto; max-height: 12; }
    VocabScreen .heading { margin-top: 1; text-style: bold; }
    VocabScreen #learned { color: $text-muted; }
    """

    def __init__(self, controls: Controls, memory: PersonalMemory | None) -> None:
        super().__init__()
        self.controls = controls
        self.memory = memory

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Vocabulary"
            box.border_subtitle = "U unblocks · Esc closes"
            yield Label("Blocked (never suggested):", classes="heading")
            yield OptionList(id="blocked")
            yield Label("Learned from your documents (uses):", classes="heading")
            yield Static(self._learned_text(), id="learned")

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#blocked", OptionList).focus()

    def _learned_text(self) -> str:
        learned = self.memory.vocabulary(LEARNED_SHOWN) if self.memory is not None else []
        return ", ".join(f"{w} ({c})" for w, c in learned) or "nothing yet"

    def _fill(self) -> None:
        blocked = self.query_one("#blocked", OptionList)
        blocked.clear_options()
        blocked.add_options(self.controls.blocked() or ["(none)"])
        blocked.disabled = not self.controls.blocked()
        blocked.highlighted = None if blocked.disabled else 0

    def action_unblock(self) -> None:
        """Unblock the highlighted word or phrase."""
        blocked = self.query_one("#blocked", OptionList)
        if blocked.disabled or blocked.highlighted is None:
            return
        item = str(blocked.get_option_at_index(blocked.highlighted).prompt)
        self.controls.unblock(item)
        self.notify(f"{item!r} may be suggested again.", title="Vocabulary")
        self._fill()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # Enter on a word is not the document list's "open"
