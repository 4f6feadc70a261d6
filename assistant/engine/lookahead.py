"""Two rules on what the predictor reads and offers, apart from its model work: the text is read as the writer
will go on typing it, and a candidate too unlikely to help is never offered."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.decode.wordsearch import WordCandidate
from assistant.text.words import CLOSING_PUNCTUATION

MIN_PROBABILITY = 0.001
"""Default floor (``Predictor(min_probability=...)``; the settings key comes later): candidates less likely than
this are dropped, such as the 0.01% words offered where the model has no idea. On the general evaluation texts
(3 x 2000 words) KSR@1/3/5 with no floor 0.4325/0.5584/0.5936; floor 0.001: 0.4325/0.5580/0.5932; 0.002:
-/0.5578/0.5925; 0.01: 0.4323/0.5556/0.5873. ``assistant eval --max-words 2000`` on them before these rules:
0.4326/0.5587/0.5941, after (both rules, floor 0.001): 0.4325/0.5580/0.5932."""

PARAGRAPH_START = "\n\n"
"""What an empty text is read as: a writer's new document starts a paragraph, not a training file."""


def as_typed(text: str) -> tuple[str, str]:
    """``(text to predict after, separator the prediction assumes)``.

    After closing punctuation with no space yet, the next word is predicted as if the space had been typed
    (``"approved."`` is read as ``"approved. "``) and a chosen word brings that space with it; an empty text is
    read as the start of a paragraph.
    """
    if not text:
        return PARAGRAPH_START, ""
    if text[-1] in CLOSING_PUNCTUATION:
        return text + " ", " "
    return text, ""


def above_floor(candidates: Sequence[WordCandidate], floor: float) -> list[WordCandidate]:
    """The candidates at least ``floor`` likely, in their order."""
    return [c for c in candidates if c.probability >= floor]
