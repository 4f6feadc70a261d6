"""The last check before a suggestion is shown: no secret, nothing blocked, nothing rejected in this context.

``SuggestionGuard.apply(text_before_cursor, suggestions)`` filters a :class:`Suggestions` from any predictor: word
candidates that are (or would complete) a secret, a blocked word or phrase, or a suggestion the user rejected
after the same words are dropped; ghost text is cut before the first such word (or dropped), and is kept only
while it still starts with the best remaining candidate.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from assistant.engine.predictor import Phrase, Suggestions
from assistant.store.blocklist import Controls, ControlsError
from assistant.text.secrets import find_secrets
from assistant.text.words import is_word_char, word_spans

log = logging.getLogger(__name__)

SECRET_CONTEXT_CHARS = 256
"""Text before the word that the secret check reads (a label such as ``password:``, the start of a key)."""

LEAK_MIN_CHARS = 3
"""A candidate this long or longer that spells the first half (or more) of a blocked word is its leak
(``Gwend`` for a blocked ``Gwendolyn``), and is dropped; shorter ones (``a`` before ``apple``) are not."""


class SuggestionGuard:
    """Filters suggestions by the user's privacy controls."""

    def __init__(self, controls: Controls | None = None, filter_secrets: bool = True) -> None:
        self.controls = controls
        self.filter_secrets = filter_secrets
        self._warned = False

    def allows(self, before: str, addition: str) -> bool:
        """Whether ``addition`` (a word, or a phrase from the start of its word) may be offered after ``before``
        (the text up to the start of the word being typed)."""
        return (
            self._cut(before, addition) is None
            and not self._leaks_blocked(addition)
            and not (self.controls is not None and self.controls.is_rejected(before, addition))
        )

    def _leaks_blocked(self, addition: str) -> bool:
        """Whether ``addition`` ends in the start of a blocked word: at least ``LEAK_MIN_CHARS`` characters and
        half of the word (a blocked phrase is not a blocked word: its words stay)."""
        if self.controls is None:
            return False
        spans = word_spans(addition)
        if not spans:
            return False
        start, end = spans[-1]
        if end < len(addition.rstrip()):
            return False  # something other than a word ends it: no word is cut short
        tail = addition[start:end].casefold()
        if len(tail) < LEAK_MIN_CHARS:
            return False
        return any(
            " " not in word and len(word) > len(tail) and word.startswith(tail) and 2 * len(tail) >= len(word)
            for word in self.controls.blocked()  # normalised: case-folded
        )

    def apply(self, text_before_cursor: str, suggestions: Suggestions) -> Suggestions:
        """``suggestions`` without what may not be shown. A damaged controls file is reported once and, until it
        is fixed, only secrets are filtered (a keystroke never fails on it)."""
        try:
            return self._apply(text_before_cursor, suggestions)
        except ControlsError as exc:
            if not self._warned:
                log.warning("%s; until then only secrets are kept out of suggestions", exc)
                self._warned = True
            return SuggestionGuard(None, self.filter_secrets)._apply(text_before_cursor, suggestions)

    def _apply(self, text_before_cursor: str, suggestions: Suggestions) -> Suggestions:
        prefix = suggestions.prefix
        if prefix and not text_before_cursor.endswith(prefix):
            raise ValueError("the suggestions' prefix does not end the text before the cursor")
        before = text_before_cursor[: len(text_before_cursor) - len(prefix)]
        kept = [c for c in suggestions.words if self.allows(before, c.word)]
        phrase = self._phrase(before, prefix, suggestions.phrase, kept[0].word if kept else None)
        if len(kept) == len(suggestions.words) and phrase is suggestions.phrase:
            return suggestions
        return replace(suggestions, words=kept, phrase=phrase)

    def _phrase(self, before: str, prefix: str, phrase: Phrase | None, best: str | None) -> Phrase | None:
        if phrase is None or best is None:
            return None
        full = prefix + phrase.text
        if not full.startswith(best) or (len(full) > len(best) and is_word_char(full[len(best)])):
            return None
        if self.controls is not None and self.controls.is_rejected(before, full):
            return None
        cut = self._cut(before, full)
        if cut is None:
            return phrase
        text = full[:cut].rstrip()
        if len(text) < len(best):  # the first word itself may not be shown
            return None
        return Phrase(text[len(prefix) :], phrase.confidence) if len(text) > len(prefix) else None

    def _cut(self, before: str, addition: str) -> int | None:
        """Where ``addition`` must end (a character index into it) to show nothing it may not; None: all of it."""
        cuts = []
        if self.filter_secrets:
            tail = before[-SECRET_CONTEXT_CHARS:]
            starts = [s.start - len(tail) for s in find_secrets(tail + addition, partial=True) if s.end > len(tail)]
            if starts:
                cut = max(0, min(starts))
                while cut > 0 and is_word_char(addition[cut - 1]):  # never show part of a secret's word
                    cut -= 1
                cuts.append(cut)
        if self.controls is not None:
            j = self.controls.first_blocked(before, addition)
            if j is not None:
                cuts.append(word_spans(addition)[j][0])
        return min(cuts) if cuts else None
