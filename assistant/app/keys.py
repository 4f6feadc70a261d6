"""The one table of the app's keys and commands: it makes the bindings, the help screen (F1), the command palette
and the README's key table (a test keeps that in step)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Command:
    """A key, a command, or both."""

    label: str
    """The key as the help screen and the README show it ('' for a command reached only from the palette)."""
    help: str
    """What it does (help screen, README)."""
    keys: str = ""
    """Textual key names (comma-separated) of an app binding; '' when a widget binds it (the editor's keys)."""
    action: str = ""
    """The app action the keys and the palette run."""
    footer: str = ""
    """Short name in the footer (shown there when set)."""
    palette: str = ""
    """Title in the command palette ('' keeps it out)."""
    palette_help: str = ""
    """The palette's line under the title (default: ``help``)."""
    priority: bool = False
    """Checked before the focused widget's own bindings."""


COMMANDS: tuple[Command, ...] = (
    Command("Tab", "accept the ghost text, else the first candidate"),
    Command("Ctrl+Right", "accept one word of the ghost text"),
    Command("Ctrl+Down", "accept the ghost text to the end of its line"),
    Command("Ctrl+Space", "suggest now (with the on_demand setting, the only way suggestions appear)"),
    Command("Esc", "hide the ghost text"),
    Command("Alt+1 … Alt+9", "insert that candidate of the suggestion bar"),
    Command(
        "Ctrl+D",
        "reject the suggestion (the ghost text, else the first candidate): not offered here again",
        "ctrl+d",
        "reject_suggestion",
        priority=True,
    ),
    Command(
        "Ctrl+N",
        "new document",
        "ctrl+n",
        "new_document",
        "New",
        "New document",
        "create and open a document (Ctrl+N)",
    ),
    Command("Ctrl+O", "open a document (the document list)", "ctrl+o", "open_list", "Open"),
    Command(
        "Ctrl+S",
        "save now (the app also saves a second after you stop typing, and on quit)",
        "ctrl+s",
        "save",
        "Save",
        "Save",
        "save the open document now (Ctrl+S)",
    ),
    Command("Ctrl+B", "show or hide the document list", "ctrl+b", "toggle_sidebar", "Docs"),
    Command(
        "F2", "rename the document", "f2", "rename_document", "", "Rename document", "rename the open document (F2)"
    ),
    Command(
        "F3",
        "import files or a folder",
        "f3",
        "import_files",
        "",
        "Import files",
        "copy a text file or a folder of them into your documents (F3)",
    ),
    Command(
        "F5",
        "learn from your documents now",
        "f5",
        "learn",
        "Learn",
        "Learn now",
        "fine-tune your model on your documents in the background (F5)",
    ),
    Command("F9", "settings", "f9", "settings", "", "Settings", "candidates, thresholds, learning (F9)"),
    Command(
        "F8",
        "delete the document",
        "f8",
        "delete_document",
        "",
        "Delete document",
        "delete the open document, after asking (F8)",
    ),
    Command("", "", action="cancel_learning", palette="Stop learning", palette_help="pause the background fine-tune"),
    Command(
        "",
        "",
        action="rollback_model",
        palette="Roll back the model",
        palette_help="use the version your current model was trained from",
    ),
    Command("", "", action="reset_model", palette="Reset the model", palette_help="go back to the shipped base model"),
    Command(
        "",
        "",
        action="toggle_suggestions",
        palette="Toggle suggestions",
        palette_help="ghost text and the suggestion bar on or off",
    ),
    Command(
        "",
        "",
        action="toggle_phrase",
        palette="Toggle phrase ghost text",
        palette_help="let ghost text run past the current word",
    ),
    Command(
        "",
        "",
        action="toggle_no_learn",
        palette="Do not learn from this document",
        palette_help="keep the open document out of your memory and model (again: learn from it)",
    ),
    Command(
        "",
        "",
        action="vocabulary",
        palette="Vocabulary",
        palette_help="the words you blocked (U unblocks) and the words learned from your documents",
    ),
    Command(
        "",
        "",
        action="toggle_private",
        palette="Private mode",
        palette_help="learn nothing while it is on (no memory, no fine-tune); the status line shows it",
    ),
    Command("Ctrl+P", "command palette: every command, themes, model rollback and reset"),
    Command("F1", "this help", "f1", "help", "Help", "Help", "every key (F1)"),
    Command("Ctrl+Q", "quit (saves first)", "ctrl+q", "quit", "Quit", priority=True),
    Command("Ctrl+Z / Ctrl+Y", "undo / redo"),
    Command("Ctrl+Home / End", "start / end of the document (with Shift: select)"),
    Command("Home / End", "start / end of the line"),
    Command("PgUp / PgDn", "a page up / down"),
    Command("Shift+arrows", "select"),
    Command("F6 / F7", "select the line / select all"),
    Command("Ctrl+X, C, V", "cut, copy, paste"),
    Command("Ctrl+W / Ctrl+K", "delete the word before / the rest of the line"),
)
"""Every key and command, in the order the help screen lists them."""

EDITOR_BINDINGS: tuple[Binding, ...] = (
    Binding("ctrl+right", "accept_word", "Accept a word", show=False),
    Binding("ctrl+down", "accept_line", "Accept to the end of the line", show=False),
    Binding("ctrl+space,ctrl+@", "ask", "Suggest now", show=False),  # a terminal sends Ctrl+Space as NUL: ctrl+@
    Binding("ctrl+home", "cursor_document_start", "Document start", show=False),
    Binding("ctrl+end", "cursor_document_end", "Document end", show=False),
    Binding("ctrl+shift+home", "cursor_document_start(True)", "Select to document start", show=False),
    Binding("ctrl+shift+end", "cursor_document_end(True)", "Select to document end", show=False),
)
"""The editor's keys beyond Textual's TextArea (listed in :data:`COMMANDS`)."""


def app_bindings() -> list[Binding]:
    """The app's bindings: every command with keys, and Alt+1..9 for the suggestion bar."""
    keyed = sorted((c for c in COMMANDS if c.keys), key=lambda c: (c.action != "quit", c.action != "help"))
    out = [Binding(c.keys, c.action, c.footer or c.label, show=bool(c.footer), priority=c.priority) for c in keyed]
    out += [Binding(f"alt+{i}", f"pick({i})", f"Candidate {i}", show=False, priority=True) for i in range(1, 10)]
    return out


def help_rows() -> list[tuple[str, str]]:
    """(key, what it does) for the help screen and the README."""
    return [(c.label, c.help) for c in COMMANDS if c.label]


def palette_entries() -> list[tuple[str, str, str]]:
    """(title, help, action) of each palette command, in the palette's order."""
    order = [c for c in COMMANDS if c.palette]
    return [(c.palette, c.palette_help or c.help, c.action) for c in sorted(order, key=_palette_rank)]


PALETTE_ORDER = (
    "New document",
    "Rename document",
    "Delete document",
    "Import files",
    "Save",
    "Learn now",
    "Stop learning",
    "Roll back the model",
    "Reset the model",
    "Toggle suggestions",
    "Toggle phrase ghost text",
    "Do not learn from this document",
    "Private mode",
    "Vocabulary",
    "Settings",
    "Help",
)
"""The palette lists commands in this order (documents, learning, model, suggestions, settings)."""


def _palette_rank(c: Command) -> int:
    return PALETTE_ORDER.index(c.palette) if c.palette in PALETTE_ORDER else len(PALETTE_ORDER)


def markdown_table() -> str:
    """The README's key table."""
    rows = ["| key | what it does |", "|---|---|"]
    rows += [f"| {key} | {what} |" for key, what in help_rows()]
    return "\n".join(rows)
