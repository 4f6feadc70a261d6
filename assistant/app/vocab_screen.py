"""The vocabulary screen: what ``assistant vocab`` lists, read afresh each time it is shown: the words you blocked
(unblock one with U or Delete), suggestions you rejected, forgotten words, documents kept out of learning and the
words learned from your documents, most used first."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static

from assistant.personal.space import UserSpace
from assistant.personal.vocabulary import Vocabulary, vocabulary
from assistant.store.blocklist import ControlsError

LEARNED_SHOWN = 40
"""Learned words listed (most used first)."""


class VocabScreen(ModalScreen[None]):
    """Blocked words (unblock with U or Delete), rejected, forgotten, kept out of learning, and learned words."""

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
    VocabScreen Static { color: $text-muted; }
    """

    def __init__(self, space: UserSpace) -> None:
        super().__init__()
        self.space = space
        self.vocabulary = Vocabulary()
        """What is shown (read when the screen is shown, and after an unblock)."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Vocabulary"
            box.border_subtitle = "U unblocks · Esc closes"
            yield Label("Blocked (never suggested):", classes="heading")
            yield OptionList(id="blocked")
            yield Label("Rejected suggestions (times):", classes="heading")
            yield Static(id="rejected")
            yield Label("Forgotten (left out of learning):", classes="heading")
            yield Static(id="forgotten")
            yield Label("Documents kept out of learning:", classes="heading")
            yield Static(id="no-learn")
            yield Label("Learned from your documents (uses):", classes="heading")
            yield Static(id="learned")

    def on_mount(self) -> None:
        self.refresh_vocabulary()
        self.query_one("#blocked", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_vocabulary()

    def refresh_vocabulary(self) -> None:
        """Read the vocabulary again and show it."""
        try:
            self.vocabulary = vocabulary(self.space, LEARNED_SHOWN)
        except (ControlsError, OSError) as exc:
            self.notify(str(exc), title="Vocabulary", severity="error")
            return
        v = self.vocabulary
        self.query_one("#rejected", Static).update(", ".join(f"{w} ({n})" for w, n in v.rejected.items()) or "none")
        self.query_one("#forgotten", Static).update(", ".join(v.forgotten) or "none")
        self.query_one("#no-learn", Static).update(", ".join(v.no_learn) or "none")
        self.query_one("#learned", Static).update(
            ", ".join(f"{w.word} ({w.count})" for w in v.learned) or "nothing yet"
        )
        blocked = self.query_one("#blocked", OptionList)
        blocked.clear_options()
        blocked.add_options(v.blocked or ["(none)"])
        blocked.disabled = not v.blocked
        blocked.highlighted = None if blocked.disabled else 0

    def action_unblock(self) -> None:
        """Unblock the highlighted word or phrase."""
        blocked = self.query_one("#blocked", OptionList)
        if blocked.disabled or blocked.highlighted is None:
            return
        item = str(blocked.get_option_at_index(blocked.highlighted).prompt)
        self.space.controls().unblock(item)
        self.notify(f"{item!r} may be suggested again.", title="Vocabulary")
        self.refresh_vocabulary()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # Enter on a word is not the document list's "open"
