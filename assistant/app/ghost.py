"""What the editor shows as ghost text, and how much of it an accept key inserts (no UI code here)."""

from __future__ import annotations

from assistant.engine.predictor import Suggestions
from assistant.text.words import WORD_RE, is_word_char

GHOST_WORD_MIN = 0.1
"""The rest of the best word is shown only when the model gives that word at least this probability."""

_ENDS_A_WORD = ".,;:!?"


def ghost_for(suggestions: Suggestions, rest_of_line: str, phrase: bool = True) -> str:
    """Ghost text for the cursor: the phrase when the model is confident, else the rest of a likely word.

    Nothing is shown inside a word (the cursor is followed by a letter or digit), and after a separator only a
    confident phrase is shown (a lone next-word guess is what the suggestion bar is for).
    """
    if rest_of_line[:1] and is_word_char(rest_of_line[0]):
        return ""
    if phrase and suggestions.phrase is not None:
        return suggestions.phrase.text
    if suggestions.prefix and suggestions.words and suggestions.words[0].probability >= GHOST_WORD_MIN:
        return suggestions.completions[0]
    return ""


def first_word(ghost: str) -> str:
    """The part of ``ghost`` up to the end of its first word (the separators before it included)."""
    match = WORD_RE.search(ghost)
    return ghost[: match.end()] if match else ghost


def accept_all(ghost: str, rest_of_line: str) -> str:
    """What Tab inserts: the ghost text, and a space after it when it ends a word at the end of the line (so the
    next suggestion is the next word, as accepting a word costs one keystroke with its separator)."""
    if ghost and not rest_of_line and (is_word_char(ghost[-1]) or ghost[-1] in _ENDS_A_WORD):
        return ghost + " "
    return ghost
