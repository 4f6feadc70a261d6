"""Which language a text is written in: py3langid (langid.py's model, offline, numpy only), limited to the
languages that have a word-frequency list.

py3langid was chosen for being small (a 4.5 MB model in the package, no other dependency than numpy) and fast
(about 0.5 ms for a paragraph once loaded; loading takes a second or two, done once per process and only when a
text is long enough to judge). A text is judged only when it has ``MIN_WORDS`` words, and a language other
than English only when the detector is sure (``MIN_CONFIDENCE``), so a short text or one quoting a phrase of
another language stays English.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.text.words import WORD_RE

LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "ca", "ro", "tr")
"""Languages told apart (Latin script, each with a wordfreq list); anything else reads as its nearest one."""

NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "pl": "Polish",
    "cs": "Czech",
    "ca": "Catalan",
    "ro": "Romanian",
    "tr": "Turkish",
}
"""Display names (the status line, ``assistant docs``)."""

MIN_WORDS = 12
"""Fewer words than this say nothing about the language."""

MIN_CONFIDENCE = 0.9
"""A language is named only when the detector gives it at least this probability."""

SAMPLE_CHARS = 1500
"""At most this much text (the end of it) is read."""

USUAL_SAMPLES = 12
"""Paragraphs of the writer's documents read to tell the language they usually write in."""

USUAL_CHARS = 200
"""Characters read of each of them."""

_lock = threading.Lock()


@dataclass(frozen=True)
class Detected:
    """A language judgement."""

    language: str
    """ISO 639-1 code."""
    confidence: float


def detect(text: str, default: str = "en") -> Detected:
    """The language of ``text`` (its last ``SAMPLE_CHARS``): ``default`` when too short or unsure."""
    sample = text[-SAMPLE_CHARS:]
    if len(WORD_RE.findall(sample)) < MIN_WORDS:
        return Detected(default, 0.0)
    with _lock:  # the identifier keeps scratch state
        language, confidence = _identifier().classify(sample)
    if language != default and confidence < MIN_CONFIDENCE:
        return Detected(default, float(confidence))
    return Detected(str(language), float(confidence))


def usual_language(paragraphs: Sequence[str], default: str = "en") -> str:
    """The language a writer usually writes in, from their documents' ``paragraphs``: judged on a sample of
    paragraphs spread over them (``default`` when they say too little or the detector is unsure)."""
    if not paragraphs:
        return default
    step = max(1, len(paragraphs) // USUAL_SAMPLES)
    sample = " ".join(p[:USUAL_CHARS] for p in paragraphs[::step])
    return detect(sample[:SAMPLE_CHARS], default).language


def name(language: str) -> str:
    """``French`` for ``fr`` (the code itself when unnamed)."""
    return NAMES.get(language, language)


@functools.cache
def _identifier() -> Any:
    """py3langid's identifier holding only the columns of ``LANGUAGES`` (its full model is let go: a third of
    the memory)."""
    import numpy as np
    import py3langid
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_modelpath(str(Path(py3langid.__file__).parent / MODEL_FILE))
    keep = [i for i, c in enumerate(full.nb_classes) if c in LANGUAGES]
    return LanguageIdentifier(
        np.ascontiguousarray(full.nb_ptc[:, keep]),
        np.ascontiguousarray(full.nb_pc[keep]),
        [full.nb_classes[i] for i in keep],
        full.tk_nextmove,
        full.tk_output,
        norm_probs=True,
        tk_row=full.tk_row,
    )
