"""The app's own messages: what its worker threads report back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets.text_area import Selection

from assistant.personal import Suggestions
from assistant.personal.finetune import FinetuneOutcome
from assistant.personal.jobs import FinetuneStep

Key = tuple[int, Selection]
"""What a suggestion answers: the editor's text version and cursor."""


@dataclass
class SuggestionsReady(Message):
    """A worker's answer for the text and cursor of ``key``."""

    key: Key
    suggestions: Suggestions
    rest_of_line: str
    """The text after the cursor on its line (the ghost text must not repeat it)."""


@dataclass
class LearnProgress(Message):
    """A step of the background fine-tune."""

    progress: FinetuneStep


@dataclass
class LearnDone(Message):
    """The background fine-tune finished (or failed)."""

    outcome: FinetuneOutcome | BaseException
