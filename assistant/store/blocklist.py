"""What the user told the assistant not to learn or offer: blocked words and phrases, rejected suggestions,
forgotten words, documents marked "do not learn" and paragraphs written in private mode.

One JSON file (``controls.json`` in the user data folder), private to the user (0600), written atomically under a
file lock, so the app, the language server, the bot and the command line share it. Reads are cached and re-read
only when the file changes (one ``stat`` per call), so checking every candidate of every keystroke is cheap.

Words and phrases are compared by their words, case-insensitively: blocking ``Best regards`` also blocks
``best  regards,``; blocking ``Foo`` blocks ``FOO`` at the start of a sentence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.atomic import atomic_write_text, private_dir
from assistant.text.words import words

CONTROLS_FILE = "controls.json"
FORMAT_VERSION = 1
CONTEXT_WORDS = 2
"""A rejection holds in the context of this many words before the suggestion."""
MAX_CONTEXTS = 100
"""Contexts remembered per rejected suggestion (the oldest are dropped)."""
DEFAULT_BLOCK_AFTER = 3


class ControlsError(RuntimeError):
    """The controls file is damaged or locked by another process."""


def normalise(word_or_phrase: str) -> str:
    """The comparison form: its words, case-folded, one space apart ('' when it holds no word)."""
    return " ".join(w.casefold() for w in words(word_or_phrase))


def context_key(text_before: str) -> str:
    """The context a rejection holds in: the last ``CONTEXT_WORDS`` words before the suggestion, normalised."""
    return " ".join(w.casefold() for w in words(text_before[-200:])[-CONTEXT_WORDS:])


@dataclass
class _State:
    blocked: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    no_learn: list[str] = field(default_factory=list)
    rejections: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Normalised suggestion -> ``{"count": n, "contexts": [context keys], "offered": spelling last offered}``."""
    private: list[str] = field(default_factory=list)
    """Keys of paragraphs written in private mode, not learned until private mode ends."""
    kept_private: list[str] = field(default_factory=list)
    """Keys of paragraphs written in private mode that the writer chose never to have learned."""

    def encode(self) -> str:
        raw = {
            "version": FORMAT_VERSION,
            "blocked": sorted(self.blocked),
            "forgotten": sorted(self.forgotten),
            "no_learn": sorted(self.no_learn),
            "rejections": self.rejections,
        }
        if self.private or self.kept_private:  # written only when used: older versions read the file unchanged
            raw["private"] = sorted(set(self.private))
            raw["kept_private"] = sorted(set(self.kept_private))
        return json.dumps(raw, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


class Controls:
    """The user's controls in ``path`` (normally ``<user data>/controls.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=10, mode=0o600)
        self._cache: tuple[tuple[int, int, int] | None, _State, dict[str, Any]] | None = None

    def __reduce__(self) -> tuple[type[Controls], tuple[Path]]:
        """Pickled as its path (a fine-tune's child process gets the same controls; the lock and the cache are
        made anew there)."""
        return (Controls, (self.path,))

    @classmethod
    def at(cls, data_dir: Path) -> Controls:
        """The controls of the user whose data folder is ``data_dir`` (``Paths.data``)."""
        return cls(data_dir / CONTROLS_FILE)

    # -- reading ----------------------------------------------------------------------------------------------
    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)  # an atomic write always gives a new inode

    def _read(self) -> _State:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _State()
        except (OSError, ValueError) as exc:
            raise ControlsError(f"{self.path} is damaged ({exc}); fix or delete it") from exc
        if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
            raise ControlsError(f"{self.path} is not a controls file of version {FORMAT_VERSION}")
        try:
            return _State(
                blocked=[str(x) for x in raw.get("blocked", [])],
                forgotten=[str(x) for x in raw.get("forgotten", [])],
                no_learn=[str(x) for x in raw.get("no_learn", [])],
                rejections={str(k): dict(v) for k, v in raw.get("rejections", {}).items()},
                private=[str(x) for x in raw.get("private", [])],
                kept_private=[str(x) for x in raw.get("kept_private", [])],
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ControlsError(f"{self.path} is damaged ({exc}); fix or delete it") from exc

    def _view(self) -> tuple[_State, dict[str, Any]]:
        """The current state and derived lookups, re-read only when the file changed."""
        stamp = self._stamp()
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1], self._cache[2]
        state = self._read()
        seqs: dict[int, set[tuple[str, ...]]] = {}
        for item in state.blocked:
            seq = tuple(item.split())
            seqs.setdefault(len(seq), set()).add(seq)
        derived = {
            "blocked_seqs": seqs,
            "forgotten": set(state.forgotten),
            "no_learn": set(state.no_learn),
            "private": frozenset(state.private) | frozenset(state.kept_private),
        }
        self._cache = (stamp, state, derived)
        return state, derived

    @contextmanager
    def _editing(self) -> Iterator[_State]:
        """Hold the lock, yield a fresh state, write it back (atomically, 0600) if the block changed it."""
        try:
            with self._lock:
                state = self._read()
                before = state.encode()
                yield state
                after = state.encode()
                if after != before:
                    private_dir(self.path.parent)
                    atomic_write_text(self.path, after)
        except Timeout as exc:
            raise ControlsError(f"{self.path} is locked by another assistant process") from exc

    # -- blocking ---------------------------------------------------------------------------------------------
    def block(self, word_or_phrase: str) -> str:
        """Never suggest this word or phrase again; returns its normalised form."""
        item = _checked(word_or_phrase)
        with self._editing() as state:
            if item not in state.blocked:
                state.blocked.append(item)
        return item

    def unblock(self, word_or_phrase: str) -> bool:
        """Allow it again (its rejection count starts over); False when it was not blocked."""
        item = _checked(word_or_phrase)
        with self._editing() as state:
            state.rejections.pop(item, None)
            if item not in state.blocked:
                return False
            state.blocked.remove(item)
            return True

    def blocked(self) -> list[str]:
        """Blocked words and phrases (normalised), sorted."""
        return sorted(self._view()[0].blocked)

    def first_blocked(self, before: str, addition: str) -> int | None:
        """Index (among the words of ``addition``) of the first word that completes a blocked word or phrase,
        reading ``addition`` after ``before``; None when nothing blocked is completed."""
        seqs: dict[int, set[tuple[str, ...]]] = self._view()[1]["blocked_seqs"]
        if not seqs:
            return None
        longest = max(seqs)
        old = [w.casefold() for w in words(before[-400:])][-(longest - 1) :] if longest > 1 else []
        new = [w.casefold() for w in words(addition)]
        run = old + new
        for j in range(len(new)):
            end = len(old) + j + 1
            for n, items in seqs.items():
                if end >= n and tuple(run[end - n : end]) in items:
                    return j
        return None

    # -- rejections -------------------------------------------------------------------------------------------
    def reject(self, text_before: str, suggestion: str, block_after: int = DEFAULT_BLOCK_AFTER) -> bool:
        """Record that ``suggestion`` (a word, or a ghost phrase from the start of its word) was rejected where
        ``text_before`` precedes it: it is not offered there again, and after ``block_after`` rejections (in any
        context) it is blocked. Returns True when this rejection blocked it."""
        item = _checked(suggestion)
        key = context_key(text_before)
        with self._editing() as state:
            entry = state.rejections.setdefault(item, {"count": 0, "contexts": []})
            entry["count"] = int(entry.get("count", 0)) + 1
            contexts = [c for c in entry.get("contexts", []) if c != key] + [key]
            entry["contexts"] = contexts[-MAX_CONTEXTS:]
            entry["offered"] = " ".join(words(suggestion))  # as the writer saw it: "I", not "i"
            if entry["count"] >= block_after and item not in state.blocked:
                state.blocked.append(item)
                return True
        return False

    def is_rejected(self, text_before: str, suggestion: str) -> bool:
        """Whether ``suggestion`` was rejected in the context of ``text_before``."""
        entry = self._view()[0].rejections.get(normalise(suggestion))
        return bool(entry) and context_key(text_before) in entry.get("contexts", [])

    def rejections(self) -> dict[str, int]:
        """Rejected suggestions (normalised) and how often each was rejected."""
        return {k: int(v.get("count", 0)) for k, v in sorted(self._view()[0].rejections.items())}

    def rejections_as_offered(self) -> dict[str, int]:
        """Rejected suggestions spelled as they were last offered (``I``, not ``i``), and how often each was
        rejected; an entry recorded before the spelling was kept shows its normalised form."""
        state = self._view()[0]
        return {str(v.get("offered") or k): int(v.get("count", 0)) for k, v in sorted(state.rejections.items())}

    # -- forgetting -------------------------------------------------------------------------------------------
    def forget(self, word: str) -> str:
        """Leave every paragraph holding ``word`` out of later fine-tunes; returns the normalised word."""
        item = _checked(word, single=True)
        with self._editing() as state:
            if item not in state.forgotten:
                state.forgotten.append(item)
        return item

    def unforget(self, word: str) -> bool:
        """Learn from paragraphs holding ``word`` again; False when it was not forgotten."""
        item = _checked(word, single=True)
        with self._editing() as state:
            if item not in state.forgotten:
                return False
            state.forgotten.remove(item)
            return True

    def forgotten(self) -> list[str]:
        """Forgotten words (normalised), sorted."""
        return sorted(self._view()[0].forgotten)

    def is_forgotten(self, word: str) -> bool:
        """Whether ``word`` was forgotten."""
        return normalise(word) in self._view()[1]["forgotten"]

    def paragraph_is_forgotten(self, paragraph: str) -> bool:
        """Whether ``paragraph`` holds a forgotten word (it is then left out of fine-tunes)."""
        forgotten: set[str] = self._view()[1]["forgotten"]
        return bool(forgotten) and any(w.casefold() in forgotten for w in words(paragraph))

    # -- documents not to learn from --------------------------------------------------------------------------
    def set_no_learn(self, name: str, no_learn: bool = True) -> bool:
        """Mark document ``name`` "do not learn" (or learnable again); False when nothing changed."""
        with self._editing() as state:
            if no_learn == (name in state.no_learn):
                return False
            if no_learn:
                state.no_learn.append(name)
            else:
                state.no_learn.remove(name)
            return True

    def is_no_learn(self, name: str) -> bool:
        """Whether document ``name`` is kept out of learning."""
        return name in self._view()[1]["no_learn"]

    def no_learn(self) -> list[str]:
        """Documents kept out of learning, sorted."""
        return sorted(self._view()[0].no_learn)

    # -- private mode ---------------------------------------------------------------------------------------------
    def hold_private(self, keys: Iterable[str]) -> int:
        """Hold these paragraph keys (see :func:`assistant.store.privacy.paragraph_key`) out of learning until
        :meth:`end_private`: every process reads them here, so none learns what was written in private mode.
        Returns how many were new."""
        with self._editing() as state:
            known = set(state.private) | set(state.kept_private)
            new = sorted(set(keys) - known)
            state.private.extend(new)
            return len(new)

    def end_private(self, learn: bool = True) -> int:
        """Private mode has ended: the paragraphs held since are learned from now on (``learn``), or never.
        Returns how many were held."""
        with self._editing() as state:
            held = len(state.private)
            if not learn:
                state.kept_private = sorted(set(state.kept_private) | set(state.private))
            state.private = []
            return held

    def private_paragraphs(self) -> frozenset[str]:
        """Keys of every paragraph written in private mode and not (yet) learned."""
        return self._view()[1]["private"]

    def held_private(self) -> int:
        """How many paragraphs wait for private mode to end."""
        return len(self._view()[0].private)

    def rename_document(self, old: str, new: str) -> None:
        """Carry the "do not learn" mark of ``old`` over to ``new`` (call after a rename)."""
        with self._editing() as state:
            if old in state.no_learn:
                state.no_learn.remove(old)
                if new not in state.no_learn:
                    state.no_learn.append(new)


def _checked(text: str, single: bool = False) -> str:
    item = normalise(text)
    if not item:
        raise ValueError(f"{text!r} holds no word")
    if single and " " in item:
        raise ValueError(f"{text!r} is more than one word")
    return item
