"""The editor: Textual's TextArea with ghost text that follows the product's rules.

Textual's ``TextArea.suggestion`` already draws dim text at the cursor and keeps it while typed characters match
it. This widget adds what the product needs on top: moving the cursor or selecting clears the ghost, Tab accepts
all of it, Ctrl+Right one word of it, Ctrl+Down up to the end of its line, Esc hides it, and a counter of edits
lets the screen drop stale suggestions. It knows nothing of documents or of the app: it posts messages (a
candidate picked, suggestions asked for) that its screen handles.

An accept that finishes a word adds a space after it, as a phone keyboard does; that space gives way to
punctuation typed next (``going`` + ``.`` is ``going.``, not ``going .``) and absorbs a space typed next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.document._wrapped_document import WrappedDocument
from textual.keys import key_to_character
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Document, Edit, EditResult, Location, Selection

from assistant.app.ghost import accept_all, first_word
from assistant.app.keys import EDITOR_BINDINGS
from assistant.text.words import CLOSING_PUNCTUATION, is_word_char, words


class _CountedWrappedDocument(WrappedDocument):
    """Textual's wrapped document with an O(1) height.

    Textual 8.2 sums the wrap offsets of every line for ``height``, and ``TextArea`` asks for it once per rendered
    line: on a 3 MB document that was 180 ms per keystroke. The y-offset table it keeps has one entry per wrapped
    line, so its length is the height.
    """

    @property
    def height(self) -> int:
        return len(self._offset_to_line_info)


class _CachedTextDocument(Document):
    """Textual's plain document that remembers its joined text until the next edit.

    ``TextArea.render_line`` tests ``not self.text`` (for its placeholder) on every line it draws, which joins the
    whole document each time: on a 3 MB document most of the time of a keystroke.
    """

    @property
    def text(self) -> str:
        cached = self.__dict__.get("_joined")
        if cached is None:
            cached = self.__dict__["_joined"] = super().text
        return cached

    def replace_range(self, start: Location, end: Location, text: str) -> EditResult:
        self.__dict__.pop("_joined", None)
        return super().replace_range(start, end, text)


OPTION_DIGITS = "¡™£¢∞§¶•ª"
"""What Textual reads for ESC 1 .. ESC 9 (Alt+1..9 in xterm-like terminals and tmux): macOS Option+digit."""


class GhostEditor(TextArea):
    """A TextArea whose ``suggestion`` is the ghost text of the assistant."""

    BINDINGS: ClassVar[list[BindingType]] = list(EDITOR_BINDINGS)

    @dataclass
    class Pick(Message):
        """Candidate ``number`` of the suggestion bar was chosen from the keyboard."""

        number: int

    @dataclass
    class Ask(Message):
        """The writer asked for suggestions now (Ctrl+Space; the only way with ``[suggest] on_demand``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("tab_behavior", "indent")
        kwargs.setdefault("show_line_numbers", False)
        self.text_version = 0
        """Bumped by every change of the text (edit, undo, redo, load)."""
        self.words_written = 0
        """Words finished in this editor (typed, accepted or pasted)."""
        self.candidates = 0
        """Candidates on the suggestion bar (set by the screen): Alt+1..9 pick among them."""
        self.tab_indents = False
        """Tab with no ghost text indents (setting ``app.tab_indents``); by default it completes the word being
        typed with the bar's first candidate, and does nothing after a separator."""
        self.last_change = "load"
        """What last changed the text: "insert", "delete", "undo" (also a redo) or "load"."""
        self._editing = False
        self._ghost_at: tuple[int, int] | None = None
        self._added_space_at: tuple[int, int] | None = None
        """The cursor just after a space that an accept added (None when the last thing done was not that)."""
        self._still_lines: LRUCache[tuple, Strip] = LRUCache(1024)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    # -- ghost text -------------------------------------------------------------------------------------------
    def show_ghost(self, text: str) -> None:
        """Show ``text`` after the cursor (or hide the ghost with '')."""
        self._ghost_at = self.cursor_location if text else None
        self.suggestion = text

    def hide_ghost(self) -> None:
        """Hide the ghost text."""
        self.show_ghost("")

    def action_accept_word(self) -> None:
        """Insert the ghost text up to the end of its first word (its last word: all of it, with the separator
        Tab adds); without ghost text, move one word right."""
        if not self.suggestion or self.read_only:
            self.action_cursor_word_right()
            return
        word = first_word(self.suggestion)
        if self.suggestion[len(word) :].strip():
            self.insert(word, maintain_selection_offset=False)
        else:
            self.accept_ghost()

    def action_accept_line(self) -> None:
        """Insert the ghost text up to the end of its line (all of a one-line ghost, as Tab does)."""
        if not self.suggestion or self.read_only:
            return
        line, newline, _ = self.suggestion.partition("\n")
        if not newline:
            self.accept_ghost()
        elif line:
            self._insert_accepted(line, self.cursor_location)

    def action_ask(self) -> None:
        """Ask for suggestions at the cursor now."""
        self.post_message(self.Ask())

    def action_cursor_document_start(self, select: bool = False) -> None:
        """Move the cursor to the start of the document (``select``: extend the selection)."""
        self.move_cursor((0, 0), select=select)

    def action_cursor_document_end(self, select: bool = False) -> None:
        """Move the cursor to the end of the document (``select``: extend the selection)."""
        self.move_cursor(self.document.end, select=select)

    def accept_ghost(self) -> bool:
        """Insert all of the ghost text (and a separator after a finished word); False when there was none."""
        if not self.suggestion or self.read_only:
            return False
        row, col = self.cursor_location
        self._insert_accepted(accept_all(self.suggestion, self.document[row][col:]), (row, col))
        return True

    def insert_word(self, prefix: str, word: str) -> None:
        """Replace the partial word ``prefix`` before the cursor with ``word`` and a separator."""
        if self.read_only:
            return
        row, col = self.cursor_location
        rest = self.document[row][col:]
        text = word if rest else word + " "  # the separator comes with the word, as in the KSR accounting
        self._insert_accepted(text, (row, col - len(prefix)))

    def _insert_accepted(self, text: str, start: tuple[int, int]) -> None:
        """Replace ``start``..cursor with accepted ``text`` as an undo step of its own; remember a separator space
        it ends with."""
        self.history.checkpoint()  # one Ctrl+Z takes back the accept, and only it
        self.replace(text, start, self.cursor_location, maintain_selection_offset=False)
        self.history.checkpoint()
        if text.endswith(" "):
            self._added_space_at = self.cursor_location

    def _after_added_space(self, character: str) -> bool:
        """Apply the phone-keyboard rule to a key typed just after an accept's space; True when it was used."""
        at, self._added_space_at = self._added_space_at, None
        if at is None or at != self.cursor_location or not self.selection.is_empty or self.read_only:
            return False
        row, col = at
        if col == 0 or self.document[row][col - 1] != " ":
            return False
        if character == " ":
            return True  # the space is there already
        if character in CLOSING_PUNCTUATION:
            self.replace(character, (row, col - 1), at, maintain_selection_offset=False)
            return True
        return False

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "tab" and self._tab():
            event.stop()
            event.prevent_default()
            return
        number = OPTION_DIGITS.find(event.character or key_to_character(event.key) or "\0") + 1
        if 0 < number <= self.candidates:  # Alt+digit as most terminals send it (ESC digit), read as Option+digit
            self.post_message(self.Pick(number))
            event.stop()
            event.prevent_default()
            return
        if event.key == "escape" and self.suggestion:
            self.hide_ghost()
            event.stop()
            event.prevent_default()
            return
        if self._added_space_at is not None and event.character and self._after_added_space(event.character):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def action_cursor_right(self, select: bool = False) -> None:
        """Move right (the ghost is accepted with Tab or Ctrl+Right, so Right only moves the cursor)."""
        self.hide_ghost()
        super().action_cursor_right(select)

    # -- drawing --------------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        """Textual's line ``y``, drawn again only when what it shows changed.

        With soft wrap, Textual keys its line cache on the whole selection and empties it at every edit, so each
        keystroke redrew every visible line (most of a frame's time). A line away from the cursor, the selection
        and a matched bracket depends only on its text, its place and the look: those are the key here.
        """
        info = self.wrapped_document._offset_to_line_info
        scroll_x, scroll_y = self.scroll_offset
        absolute_y = scroll_y + y
        if not self.soft_wrap or self.placeholder or self.language is not None or absolute_y >= len(info):
            return super().render_line(y)
        row, section = info[absolute_y]
        start, end = self.selection
        bracket = self._matching_bracket_location
        if min(start[0], end[0]) <= row <= max(start[0], end[0]) or (bracket is not None and bracket[0] == row):
            return super().render_line(y)
        key = (self.size, scroll_x, absolute_y, row, section, self.document[row], self.theme, self.gutter_width)
        line = self._still_lines.get(key)
        if line is None:
            line = self._still_lines[key] = super().render_line(y)
        return line

    def notify_style_update(self) -> None:
        self._still_lines.clear()
        super().notify_style_update()

    # -- bookkeeping ------------------------------------------------------------------------------------------
    def edit(self, edit: Edit) -> EditResult:
        """Apply an edit; count the words it finishes; keep the ghost only if the typed text matched it."""
        before = self._char_before(edit.from_location)
        if not edit.text:
            self.suggestion = ""  # a deletion never matches the ghost
        self._editing = True
        try:
            result = super().edit(edit)
        finally:
            self._editing = False
        self.text_version += 1
        self.last_change = "insert" if edit.text else "delete"
        self._ghost_at = self.cursor_location if self.suggestion else None
        self._added_space_at = None
        self.words_written += _words_finished(before, edit.text)
        return result

    def undo(self) -> None:
        super().undo()
        self.text_version += 1
        self.last_change = "undo"  # the screen shows no ghost text until the next edit: the undo stays visible

    def redo(self) -> None:
        super().redo()
        self.text_version += 1
        self.last_change = "undo"

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        self.wrapped_document.__class__ = _CountedWrappedDocument  # same state, faster height
        if type(self.document) is Document:
            self.document.__class__ = _CachedTextDocument

    def load_text(self, text: str) -> None:
        self.hide_ghost()
        super().load_text(text)
        self.text_version += 1
        self.last_change = "load"

    def _watch_selection(self, previous_selection: Selection, selection: Selection) -> None:
        super()._watch_selection(previous_selection, selection)
        if self._editing:
            return
        if selection.end != self._added_space_at or not selection.is_empty:
            self._added_space_at = None
        if self.suggestion and (not selection.is_empty or selection.end != self._ghost_at):
            self.hide_ghost()

    def _tab(self) -> bool:
        """Tab in prose: accept the ghost text, else complete the word being typed with the bar's first candidate
        (as a shell completes), else nothing; never spaces, unless ``tab_indents``. False: let Tab indent."""
        if self.accept_ghost():
            return True
        if self.tab_indents:
            return False
        if self.candidates and self._typing_a_word():
            self.post_message(self.Pick(1))
        return True

    def _typing_a_word(self) -> bool:
        """Whether the cursor ends a partial word (a word character before it, none after it)."""
        row, col = self.cursor_location
        line = self.document[row]
        return col > 0 and is_word_char(line[col - 1]) and not (col < len(line) and is_word_char(line[col]))

    def _char_before(self, location: tuple[int, int]) -> str:
        row, col = location
        if col > 0:
            return self.document[row][col - 1]
        return "\n" if row > 0 else ""

    def text_around_cursor(self, lines_before: int = 128) -> tuple[str, str]:
        """Text before the cursor (from a line start that stays put while typing) and the rest of its line."""
        row, col = self.cursor_location
        start_row = max(0, (row // lines_before - 1) * lines_before)
        before = self.document.get_text_range((start_row, 0), (row, col))
        return before, self.document[row][col:]


def _words_finished(char_before: str, inserted: str) -> int:
    """How many words an insertion finishes: a separator typed after a word, or the whole words of a paste."""
    if not inserted:
        return 0
    if len(inserted) == 1:
        return int(bool(char_before) and is_word_char(char_before) and not is_word_char(inserted))
    return len(words(inserted))
