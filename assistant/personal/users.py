"""Many users' spaces side by side (the chat bot's): one :class:`UserSpace` per user in a folder named by a hash
of their id, each user's own predictor (an LRU cache), and their fine-tunes.

Users without a personal model share the base model's network (the provider loads it once), yet every user gets
their own :class:`Predictor`, so one user's text can never change another user's suggestions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.engine.predictor import Predictor
from assistant.personal.finetune import FinetuneBusy, FinetuneConfig, FinetuneOutcome, FinetuneProcess
from assistant.personal.models import ModelProvider
from assistant.personal.space import Layout, UserSpace

log = logging.getLogger(__name__)

__all__ = ["KEY_CHARS", "FinetuneBusy", "UserSpaces", "user_key"]

KEY_CHARS = 20
"""Hex digits of the SHA-256 of a user id that name the user's folder."""


def user_key(user_id: str) -> str:
    """The folder name for a user id: a hash, so the id itself is stored nowhere. Any string hashes (a chat
    network's id may hold a lone surrogate); a valid id's key is that of its UTF-8 bytes."""
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_CHARS]


@dataclasses.dataclass
class _Slot:
    """A user's predictor, the model version it was built from, and the lock that serialises its use."""

    version: str
    predictor: Predictor
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class UserSpaces:
    """Every user's space under ``root``, their predictors (the ``cache_size`` most recent) and fine-tunes."""

    def __init__(
        self,
        root: Path,
        base_dir: Path,
        finetune_config: FinetuneConfig | None = None,
        cache_size: int = 32,
        provider: ModelProvider | None = None,
    ) -> None:
        self.root = root
        self.base_dir = base_dir
        self.finetune_config = finetune_config or FinetuneConfig(threads=1)
        self.cache_size = cache_size
        self.provider = provider or ModelProvider()
        self._spaces: dict[str, UserSpace] = {}
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.Lock()

    def space(self, user_id: str) -> UserSpace:
        """The user's space (nothing is written until something is stored in it)."""
        key = user_key(user_id)
        with self._lock:
            space = self._spaces.get(key)
            if space is None:
                space = UserSpace(Layout.inside(self.root / key), self.base_dir, self.provider)
                self._spaces[key] = space
            return space

    @contextmanager
    def predictor(self, user_id: str) -> Iterator[Predictor]:
        """This user's predictor on their active model, held exclusively and with no state left from an earlier
        text."""
        slot = self._slot(user_id)
        with slot.lock:
            slot.predictor.reset()
            yield slot.predictor

    def _slot(self, user_id: str) -> _Slot:
        key = user_key(user_id)
        space = self.space(user_id)
        version = space.active_version()
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None and slot.version == version:
                self._slots.move_to_end(key)
                return slot
        model = space.model()
        if model.warning:
            log.warning("user %s: %s", key, model.warning)
        slot = _Slot(version, space.predictor(model))
        with self._lock:
            self._slots[key] = slot
            self._slots.move_to_end(key)
            while len(self._slots) > self.cache_size:
                self._slots.popitem(last=False)
        return slot

    def finetuning(self, user_id: str) -> bool:
        """True while the user's fine-tune runs."""
        return self.space(user_id).finetuning

    def start_finetune(
        self, user_id: str, on_done: Callable[[FinetuneOutcome | BaseException], None]
    ) -> FinetuneProcess:
        """Fine-tune the user's model on their documents in a child process; ``on_done`` gets the outcome unless
        the user is forgotten (or the spaces closed) first. FinetuneBusy if one is running."""
        space = self.space(user_id)

        def finished(outcome: FinetuneOutcome | BaseException) -> None:
            with self._lock:
                current = self._spaces.get(user_key(user_id)) is space
            if current:
                on_done(outcome)

        job = space.start_finetune(self.finetune_config, on_done=finished)
        if job is None:
            raise FinetuneBusy("a fine-tune of your model is already running")
        return job

    def forget(self, user_id: str) -> bool:
        """Stop the user's fine-tune (unreported), drop their predictor and delete their folder; True if anything
        existed."""
        key = user_key(user_id)
        with self._lock:
            space = self._spaces.pop(key, None)
            self._slots.pop(key, None)
        if space is not None:
            space.kill_finetune()  # no checkpoint worth keeping: everything of theirs goes
        return UserSpace(Layout.inside(self.root / key), self.base_dir, self.provider).delete()

    def close(self, wait_s: float = 10.0) -> None:
        """Cancel every running fine-tune (each saves a checkpoint and can resume later)."""
        with self._lock:
            spaces = list(self._spaces.values())
            self._spaces.clear()
            self._slots.clear()
        for space in spaces:
            with contextlib.suppress(OSError):  # the memory catches up from the documents when it next loads
                space.close()
        running = [s.job for s in spaces if s.job is not None and s.job.running]
        for job in running:
            job.cancel()
        for job in running:
            job.join(wait_s)
