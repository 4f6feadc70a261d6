"""The read window: the part of a long text before the cursor that the network reads, and the states of the
window it moves to next, read ahead between keystrokes.

The window's start moves in steps (:data:`WINDOW_STEP`), so typing at the end of a long document keeps the cached
states valid until it moves again. When it moves, every state of the new window has to be computed from its
start: about 6,000 characters, 300-450 ms of the network on one thread, on the keystroke that moved it. A
:class:`ReadAhead` reads the next window's text while the writer is still :data:`READ_AHEAD_CHARS` short of the
move, a bounded piece per call, in the time between keystrokes; the keystroke that moves the window then finds
its states ready. They are the states a cache built on that window alone would hold (a function of the window's
text), so the answers are the same with or without it.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.engine.context import ContextCache, is_word_end, segment_ends
from assistant.text.words import is_word_char

MAX_CONTEXT_CHARS = 8192
"""At most this much text before the cursor is read (a GRU's memory is far shorter)."""

WINDOW_STEP = 2048
"""The start of the read window moves in steps of this many characters, so typing at the end of a long document
keeps the cached states valid until the window moves again."""

READ_AHEAD_CHARS = 1024
"""The next window is read once the text is this close to moving the window (about 170 words of typing)."""

READ_AHEAD_STEP = 256
"""Characters of the next window read per call (about 20 ms of the network)."""

GIVEN_STEP = 1 << 18
"""Of a text longer than :data:`GIVEN_STEPS` of these, the engine keeps the part from a start that moves in steps
of this many characters (a multiple of :data:`WINDOW_STEP`, so the read window is the same as on the whole text)."""

GIVEN_STEPS = 4
"""A text up to this many steps long (1 MB) is taken whole; a longer one, its last three to four steps."""


def given_start(length: int) -> int:
    """Where the part of a text of ``length`` characters that the engine takes starts: 0 up to 1 MB, so the
    document memory and the learner follow all of it; past that a start that moves every 256 K characters, so
    the first answer and each keystroke's string work stay bounded (a 5 MB document: 15.5 s and 67 ms whole)."""
    return max(0, (length // GIVEN_STEP - (GIVEN_STEPS - 1)) * GIVEN_STEP)


def _step_start(length: int) -> int:
    """Where the window of a text of ``length`` characters starts, before moving it to a word boundary."""
    if length <= MAX_CONTEXT_CHARS:
        return 0
    return ((length - MAX_CONTEXT_CHARS) // WINDOW_STEP + 1) * WINDOW_STEP


def _between_words(text: str, anchor: int) -> int:
    """``anchor`` moved forward to the end of the word it falls in (a window starts between words)."""
    while anchor < len(text) and is_word_char(text[anchor]):
        anchor += 1
    return anchor


def window_start(text: str) -> int:
    """Offset in ``text`` where the part the network reads starts."""
    start = _step_start(len(text))
    return _between_words(text, start) if start else 0


def context_window(text: str) -> str:
    """The part of ``text`` the model reads: all of it, or a window whose start moves in steps."""
    return text[window_start(text) :]


def next_window_start(text: str) -> int | None:
    """Where the window starts once ``text`` has grown by :data:`READ_AHEAD_CHARS` characters, if it has moved
    by then (None: it stays where it is)."""
    now, then = _step_start(len(text)), _step_start(len(text) + READ_AHEAD_CHARS)
    return _between_words(text, then) if then > now else None


class ReadAhead:
    """The states of the window the text moves to next, read a bounded piece per :meth:`step`."""

    def __init__(self, make_cache: Callable[[], ContextCache]) -> None:
        """``make_cache``: a fresh cache like the predictor's own."""
        self._make_cache = make_cache
        self._cache: ContextCache | None = None
        self._start = -1
        """Offset in the text where the window read ahead starts."""
        self._read = ""
        """The window's text read so far (it ends at a segment end)."""

    @property
    def cache(self) -> ContextCache | None:
        """The cache being read ahead, None when none is."""
        return self._cache

    def step(self, text: str) -> bool:
        """Read up to :data:`READ_AHEAD_STEP` more characters of the next window of ``text`` (the text before
        the cursor); False when there was nothing to read (the window does not move soon, or all is read)."""
        start = next_window_start(text)
        if start is None:
            self.reset()
            return False
        if start != self._start or self._cache is None:
            self._cache, self._start, self._read = self._make_cache(), start, ""
        window = text[start:]
        kept = len(self._read) if window.startswith(self._read) else 0
        ends = [kept + e for e in segment_ends(window[kept : kept + READ_AHEAD_STEP])]
        done = [e for e in ends if e < len(window) and is_word_end(window, e)]  # the word at the cursor may grow
        if not done:
            return False
        self._read = window[: done[-1]]
        self._cache.hidden(self._read)
        return True

    def take(self, text: str, start: int) -> ContextCache | None:
        """The cache read ahead when ``text``'s window, starting at ``start``, begins with what was read (then it
        is handed over and forgotten here), else None. The window's text decides, not the offset: a client that
        sends only the text's last part (the language server, past 1 MB) moves both at once."""
        cache = self._cache
        if cache is None or not self._read or not text.startswith(self._read, start):
            return None
        self.reset()
        return cache

    def forget_distributions(self) -> None:
        """The network's output layer changed (its states stay valid)."""
        if self._cache is not None:
            self._cache.forget_distributions()

    def reset(self) -> None:
        """Forget what was read ahead (another text)."""
        self._cache, self._start, self._read = None, -1, ""
