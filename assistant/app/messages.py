"""The app's own messages: what the background fine-tune reports back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets.text_area import Selection

from assistant.personal.finetune import FinetuneOutcome, FinetuneStep

Key = tuple[int, Selection]
"""What a suggestion answers: the editor's text version and cursor."""


@dataclass
class LearnProgress(Message):
    """A step of the background fine-tune."""

    progress: FinetuneStep


@dataclass
class LearnDone(Message):
    """The background fine-tune finished (or failed)."""

    outcome: FinetuneOutcome | BaseException
