"""The chat side of each user's space: the opt-in flag, the monthly chat document and the size limit, the same
for every chat front end (the Errbot plugin, the Matrix bot). No chat framework here.

Everything else (the user's folder, documents, models, predictor, fine-tune) is the service layer's
:class:`~assistant.personal.users.UserSpaces`. A user's folder is ``<root>/<user_key>`` holding the opt-in flag
``learning`` beside what the service layer keeps; nothing is written for a user who never turns learning on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from assistant.atomic import private_dir
from assistant.personal import Generation, GenerationConfig, Suggestions, count_words
from assistant.personal.finetune import FinetuneConfig, FinetuneOutcome, FinetuneProcess
from assistant.personal.space import UserSpace
from assistant.personal.users import FinetuneBusy, FinetuneTicket, UserSpaces, user_key
from assistant.text.paragraphs import paragraphs as split_paragraphs

__all__ = [
    "ChatUsers",
    "FinetuneBusy",
    "FinetuneTicket",
    "Learnable",
    "MessageTooLong",
    "UserStatus",
    "learning",
    "set_learning",
    "user_key",
]

LEARNING_FLAG = "learning"


class MessageTooLong(ValueError):
    """A text over the configured size limit (refused, never stored)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"that message has {size:,} characters; the limit is {limit:,}, so it was not used")
        self.size = size
        self.limit = limit


@dataclasses.dataclass(frozen=True)
class UserStatus:
    """What ``!learn status`` reports."""

    learning: bool
    words: int
    """Words in the user's corpus."""
    documents: int
    version: str
    """Active model version, or ``base``."""
    finetuning: bool


@dataclasses.dataclass(frozen=True)
class Learnable:
    """What a fine-tune would learn from: the user's messages after their privacy controls."""

    words: int
    """Words that may be learned (forgotten messages and secrets left out)."""
    messages: int
    """Messages that may be learned."""
    forgotten: int
    """Messages left out because they hold a word the user asked to forget."""


def learning(space: UserSpace) -> bool:
    """Whether the user opted in to learning from their messages."""
    folder = space.layout.folder
    return folder is not None and (folder / LEARNING_FLAG).is_file()


def set_learning(space: UserSpace, on: bool) -> None:
    """Write or remove the opt-in flag (turning it off creates nothing)."""
    folder = space.layout.folder
    assert folder is not None, "a chat user's space has a folder"
    flag = folder / LEARNING_FLAG
    if on:
        private_dir(folder)
        flag.write_text("on\n", encoding="utf-8")
        flag.chmod(0o600)
    else:
        flag.unlink(missing_ok=True)


def append(space: UserSpace, text: str, when: datetime | None = None) -> str:
    """Add ``text`` as a paragraph of this month's chat document; returns the document's name."""
    when = when or datetime.now()
    name = f"chat-{when:%Y-%m}.txt"
    space.append(name, text, "chat")
    return name


class ChatUsers:
    """Every chat user's space under ``root`` (the service layer's :class:`UserSpaces`) plus the chat rules."""

    def __init__(
        self,
        root: Path,
        base_dir: Path,
        max_chars: int = 4000,
        finetune_config: FinetuneConfig | None = None,
        cache_size: int = 32,
        max_finetunes: int = 1,
    ) -> None:
        self.spaces = UserSpaces(root, base_dir, finetune_config, cache_size, max_finetunes=max_finetunes)
        self.max_chars = max_chars

    def space(self, user_id: str) -> UserSpace:
        return self.spaces.space(user_id)

    def warm_up(self) -> None:
        """Load what every user's first suggestion needs (the base model, ...) before anyone asks."""
        self.spaces.warm_up()

    def check_size(self, text: str) -> None:
        """Raise :class:`MessageTooLong` for a text over the limit."""
        if len(text) > self.max_chars:
            raise MessageTooLong(len(text), self.max_chars)

    def suggest(self, user_id: str, text: str, n: int) -> Suggestions:
        """Word candidates (and maybe a phrase) for ``text`` from this user's model."""
        self.check_size(text)
        with self.spaces.predictor(user_id) as predictor:
            return predictor.suggest(text, n)

    def continue_text(self, user_id: str, text: str, config: GenerationConfig) -> Generation:
        """A continuation of ``text`` from this user's model."""
        self.check_size(text)
        with self.spaces.predictor(user_id) as predictor:
            return predictor.continue_text(text, config)

    def learn(self, user_id: str, text: str) -> bool:
        """Store a message in the user's corpus if they opted in; True if stored. Too long: MessageTooLong."""
        space = self.space(user_id)
        if not learning(space) or not text.strip():
            return False
        self.check_size(text)
        append(space, text)
        return True

    def status(self, user_id: str) -> UserStatus:
        space = self.space(user_id)
        texts = space.texts()
        return UserStatus(
            learning=learning(space),
            words=sum(count_words(t) for t in texts.values()),
            documents=len(texts),
            version=space.active_version(),
            finetuning=space.finetuning,
        )

    def learnable(self, user_id: str) -> Learnable:
        """What the user's fine-tune would learn from, read now."""
        space = self.space(user_id)
        texts = space.texts()
        learn = space.learn_filter()
        controls = learn.controls
        paragraphs = [p for name, text in texts.items() if learn.learns_document(name) for p in split_paragraphs(text)]
        forgotten = sum(1 for p in paragraphs if controls is not None and controls.paragraph_is_forgotten(p))
        words = sum(count_words(t) for t in learn.documents(texts).values())
        return Learnable(words, len(paragraphs) - forgotten, forgotten)

    def finetuning(self, user_id: str) -> bool:
        return self.spaces.finetuning(user_id)

    def request_finetune(
        self,
        user_id: str,
        on_done: Callable[[FinetuneOutcome | BaseException], None],
        on_start: Callable[[], None] | None = None,
    ) -> FinetuneTicket:
        """Queue a fine-tune of the user's model (the service layer's bounded queue): their place in it."""
        return self.spaces.request_finetune(user_id, on_done, on_start)

    def start_finetune(
        self, user_id: str, on_done: Callable[[FinetuneOutcome | BaseException], None]
    ) -> FinetuneProcess:
        """Fine-tune the user's model on their corpus in a child process; ``on_done`` gets the outcome."""
        return self.spaces.start_finetune(user_id, on_done)

    def forget(self, user_id: str) -> bool:
        """Stop the user's fine-tune, drop their predictor and delete their folder; True if anything existed."""
        return self.spaces.forget(user_id)

    def close(self, wait_s: float = 10.0) -> None:
        """Cancel every running fine-tune (each saves a checkpoint and can resume later)."""
        self.spaces.close(wait_s)
