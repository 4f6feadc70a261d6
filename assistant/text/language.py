"""Which language a text is written in: py3langid (langid.py's model, offline, numpy only), limited to the
languages that have a word-frequency list.

py3langid was chosen for being small (a 4.5 MB model in the package, no other dependency than numpy) and fast
(about 0.5 ms for a paragraph once loaded; loading takes a second or two, done once per process and only when a
text is long enough to judge). A text is judged only when it has ``MIN_WORDS`` words, and a language other
than English only when the detector is sure (``MIN_CONFIDENCE``), so a short text or one quoting a phrase of
another language stays English. A text that is plainly English (``ENGLISH_SHARE`` of its words are common English
words no other listed language writes) is English without the detector, so a process that only ever sees
English never loads it (its tables hold about 45 MB).
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

ENGLISH_MARKERS = frozenset(
    [
        "the",
        "and",
        "that",
        "with",
        "this",
        "you",
        "are",
        "which",
        "have",
        "from",
        "they",
        "their",
        "there",
        "what",
        "been",
        "were",
        "would",
    ]
)
"""Common English words that no other language of ``LANGUAGES`` writes as a word of its own (so not ``to``
(Polish, Czech), ``is`` and ``of`` (Dutch), ``was`` and ``will`` (German), ``for`` (Danish, Norwegian))."""

ENGLISH_SHARE = 0.05
"""A sample with at least this share of :data:`ENGLISH_MARKERS` among its words is English. Measured over
1,500-character windows of the English training mix and development texts, they make up 8-13% of the words
(under 5% in a handful of windows of code, tables or one-line chat, which go to the detector); a text in another
language has next to none."""

ENGLISH_TAIL_SHARE = 0.02
"""The share the newest third of the sample must reach too (English prose: two in about 80 words nearly always)."""

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
    found = WORD_RE.findall(sample)
    if len(found) < MIN_WORDS:
        return Detected(default, 0.0)
    if default == "en" and plainly_english(found):
        return Detected("en", 1.0)
    with _lock:  # the identifier keeps scratch state
        language, confidence = _identifier().classify(sample)
    if language != default and confidence < MIN_CONFIDENCE:
        return Detected(default, float(confidence))
    return Detected(str(language), float(confidence))


def plainly_english(words: Sequence[str]) -> bool:
    """Whether at least :data:`ENGLISH_SHARE` of ``words`` are :data:`ENGLISH_MARKERS` (any case), and the newest
    third of them has some too (:data:`ENGLISH_TAIL_SHARE`: where a text turns to another language, that shows
    first)."""

    def share(ws: Sequence[str]) -> float:
        return sum(w.lower() in ENGLISH_MARKERS for w in ws) / max(1, len(ws))

    tail = words[len(words) - len(words) // 3 :]
    return share(words) >= ENGLISH_SHARE and (len(tail) < MIN_WORDS or share(tail) >= ENGLISH_TAIL_SHARE)


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
