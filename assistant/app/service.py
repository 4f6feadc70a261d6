"""The predictor behind the app: one thread of its own answers the latest question, swappable for a new model.

A keystroke asks a :class:`Question`; the screen waits for the answer a few milliseconds (the usual case: the edit
and its ghost text reach the screen in one frame) and otherwise takes it later as a message. One long-lived thread
instead of a Textual worker per keystroke: no thread start, no worker state messages, and while the screen waits
the event loop holds no GIL the predictor needs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from assistant.personal import PhraseSettings, Predictor, Suggestions
from assistant.personal.models import use_threads
from assistant.personal.space import UserSpace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedPredictor:
    """A predictor with the name of the model version it runs and a warning from loading it ('' if none)."""

    predictor: Predictor
    version: str
    warning: str = ""


def load_active(space: UserSpace, phrase_threshold: float) -> LoadedPredictor:
    """The active personal model (or the base model) ready to answer keystrokes (int8, one thread)."""
    use_threads(1)
    model = space.model()
    predictor = space.predictor(model, PhraseSettings(phrase_threshold=phrase_threshold))
    notices, space.notices[:] = list(space.notices), []  # e.g. a damaged memory file that was rebuilt
    return LoadedPredictor(predictor, model.name, "; ".join(filter(None, [model.warning, *notices])))


class Question:
    """Suggestions asked for one text before the cursor; answered once by the service's thread (or dropped when
    a newer question came first)."""

    def __init__(self, text_before_cursor: str, n: int, phrase: bool) -> None:
        self.text = text_before_cursor
        self.n = n
        self.phrase = phrase
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._answer: Suggestions | None = None
        self._later: Callable[[Suggestions], None] | None = None
        self.queued = False
        """It was asked while an older question was still being answered (waiting for it is likely in vain)."""

    def wait(self, timeout: float, later: Callable[[Suggestions], None]) -> Suggestions | None:
        """The answer if it comes within ``timeout`` seconds; else None, and ``later`` gets it (on the service's
        thread) when it comes. A dropped question never answers."""
        self._done.wait(timeout)
        with self._lock:
            if not self._done.is_set():
                self._later = later
            return self._answer

    def _answered(self, answer: Suggestions | None) -> None:
        with self._lock:
            self._answer = answer
            self._done.set()
            later = self._later
        if later is not None and answer is not None:
            later(answer)


class SuggestionService:
    """Answers questions on one thread of its own, the newest first: a question not started when a newer one
    comes is dropped (typing on makes it stale)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: LoadedPredictor | None = None
        self._wake = threading.Condition()
        self._next: Question | None = None
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """True once a model is loaded."""
        return self._loaded is not None

    @property
    def version(self) -> str:
        """The model version answering ('' before one is loaded)."""
        return self._loaded.version if self._loaded else ""

    @property
    def pending(self) -> bool:
        """True while a question waits or is being answered."""
        with self._wake:
            return self._next is not None or self._busy

    def install(self, loaded: LoadedPredictor) -> None:
        """Answer with ``loaded`` from the next question on (one in progress finishes on the old one)."""
        with self._lock:
            self._loaded = loaded

    def set_phrase_threshold(self, threshold: float) -> None:
        """Change how confident the ghost phrase must be."""
        with self._lock:
            if self._loaded is not None:
                self._loaded.predictor.phrase_settings = PhraseSettings(phrase_threshold=threshold)

    def ask(self, text_before_cursor: str, n: int, phrase: bool) -> Question:
        """Ask for suggestions for the text; the question that waited before it is dropped."""
        question = Question(text_before_cursor, n, phrase)
        with self._wake:
            question.queued = self._busy
            dropped, self._next = self._next, question
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._answer_questions, name="suggestions", daemon=True)
                self._thread.start()
            self._wake.notify()
        if dropped is not None:
            dropped._answered(None)
        return question

    def suggest(self, text_before_cursor: str, n: int, phrase: bool) -> Suggestions | None:
        """Suggestions for the text on this thread (None before a model is loaded)."""
        with self._lock:
            if self._loaded is None:
                return None
            return self._loaded.predictor.suggest(text_before_cursor, n=n, phrase=phrase)

    def close(self) -> None:
        """Stop the answering thread (a question in progress is finished first)."""
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _answer_questions(self) -> None:
        while True:
            with self._wake:
                while self._next is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                question, self._next = self._next, None
                self._busy = True
            try:
                answer = self.suggest(question.text, question.n, question.phrase)
            except Exception:  # a bug in the engine: keep answering the next keystrokes, and say why in the log
                log.exception("suggestions failed for a question of %d characters", len(question.text))
                answer = None
            with self._wake:
                self._busy = False
            question._answered(answer)
            self._work_while_idle()

    def _work_while_idle(self) -> None:
        """Until the next question comes: the predictor works ahead on the document it answered for (learns it,
        ``engine/dynamic.py``, and reads the next read window ahead, ``engine/window.py``), one short call at a
        time."""
        while True:
            with self._wake:
                if self._next is not None or self._closed:
                    return
            with self._lock:
                loaded = self._loaded
                if loaded is None:
                    return
                try:
                    if not loaded.predictor.idle():
                        return
                except Exception:  # a bug in the learning: answering goes on without it
                    log.exception("working ahead on the document failed")
                    return
