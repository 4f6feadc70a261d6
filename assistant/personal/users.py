"""Many users' spaces side by side (the chat bot's): one :class:`UserSpace` per user in a folder named by a hash
of their id, each user's own predictor (an LRU cache), and their fine-tunes.

Users without a personal model share the base model's network (the provider loads it once), yet every user gets
their own :class:`Predictor`, so one user's text can never change another user's suggestions.

Fine-tunes asked for by chat users go through one queue (:meth:`UserSpaces.request_finetune`): at most
``max_finetunes`` run at once (each is a child process of several hundred MB), the others wait their turn, and a
user who asks again while theirs waits or runs keeps their one place.
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
from assistant.personal.models import BASE, Model, ModelProvider, make_predictor
from assistant.personal.space import Layout, UserSpace

log = logging.getLogger(__name__)

__all__ = ["KEY_CHARS", "FinetuneBusy", "FinetuneTicket", "UserSpaces", "user_key"]

KEY_CHARS = 20
"""Hex digits of the SHA-256 of a user id that name the user's folder."""
WARM_UP_TEXT = "Thank you for the notes from the meeting on Tuesday. I will send the"


def user_key(user_id: str) -> str:
    """The folder name for a user id: a hash, so the id itself is stored nowhere. Any string hashes (a chat
    network's id may hold a lone surrogate); a valid id's key is that of its UTF-8 bytes."""
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_CHARS]


@dataclasses.dataclass(frozen=True)
class FinetuneTicket:
    """A user's place in the fine-tune queue, as :meth:`UserSpaces.request_finetune` answers it."""

    place: int
    """0: running now; n >= 1: n-th in line (n - 1 others wait before it)."""
    again: bool
    """The user had asked already: this is the same run, not a second one."""


@dataclasses.dataclass
class _Request:
    """A queued fine-tune: whose, and whom to tell when it starts and ends."""

    key: str
    user_id: str
    on_done: Callable[[FinetuneOutcome | BaseException], None]
    on_start: Callable[[], None] | None
    waited: bool = False
    """It did not start at once (so ``on_start`` is worth calling)."""
    cancelled: bool = False
    """The user was forgotten (or the spaces closed): nothing more is reported."""


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
        max_finetunes: int = 1,
        model_cache: int = 8,
    ) -> None:
        if max_finetunes < 1:
            raise ValueError(f"max_finetunes must be at least 1, not {max_finetunes}")
        self.root = root
        self.base_dir = base_dir
        self.finetune_config = finetune_config or FinetuneConfig(threads=1)
        self.cache_size = cache_size
        self.provider = provider or ModelProvider()
        self._spaces: dict[str, UserSpace] = {}
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self.model_cache = model_cache
        """Personal model versions kept loaded (the least recently used is dropped)."""
        self._models: OrderedDict[tuple[str, str], Model] = OrderedDict()
        self._lock = threading.Lock()
        self.max_finetunes = max_finetunes
        """Most fine-tunes that run at once; more wait in :meth:`request_finetune`'s queue."""
        self._waiting: list[_Request] = []
        self._running: dict[str, _Request] = {}
        self._queue_lock = threading.RLock()

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
        model = self._model(key, version, space)
        slot = _Slot(version, space.predictor(model))
        with self._lock:
            self._slots[key] = slot
            self._slots.move_to_end(key)
            while len(self._slots) > self.cache_size:
                old, _ = self._slots.popitem(last=False)
                self._evict_space(old)
        return slot

    def _model(self, key: str, version: str, space: UserSpace) -> Model:
        """The user's active model: the base model is the provider's (loaded once for everyone), a personal
        version is loaded once and kept among the ``model_cache`` most recently used."""
        if version == BASE:
            model = space.model()
        else:
            with self._lock:
                model = self._models.get((key, version))
                if model is not None:
                    self._models.move_to_end((key, version))
            if model is None:
                model = space.model()
                with self._lock:
                    self._models[(key, version)] = model
                    while len(self._models) > self.model_cache:
                        self._models.popitem(last=False)
        if model.warning:
            log.warning("user %s: %s", key, model.warning)
        return model

    def _evict_space(self, key: str) -> None:
        """Drop an idle user's space with their predictor (lock held), so memory stays bounded however many
        users have written; a space with a fine-tune running or queued stays. Its memory is on disk (brought up
        to date from the documents when it next loads)."""
        space = self._spaces.get(key)
        if space is None or space.finetuning or key in self._running or any(r.key == key for r in self._waiting):
            return
        del self._spaces[key]

    def warm_up(self) -> None:
        """Load the base model and answer one text with a predictor of no user, so the first user's first
        request does not wait for what every predictor needs once (the model, the language identifier, the
        word lists)."""
        make_predictor(self.provider.base(self.base_dir)).suggest(WARM_UP_TEXT)

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

    def request_finetune(
        self,
        user_id: str,
        on_done: Callable[[FinetuneOutcome | BaseException], None],
        on_start: Callable[[], None] | None = None,
    ) -> FinetuneTicket:
        """Queue a fine-tune of the user's model; it starts when fewer than ``max_finetunes`` run. ``on_start``
        is called when a queued run starts (not when it starts at once), ``on_done`` with its outcome (a
        :class:`FinetuneBusy` when it could not start), both on another thread and never for a forgotten user.
        Asking again while the run waits or runs changes nothing (``again`` is True)."""
        key = user_key(user_id)
        with self._queue_lock:
            if key in self._running:
                return FinetuneTicket(0, again=True)
            for i, request in enumerate(self._waiting):
                if request.key == key:
                    return FinetuneTicket(i + 1, again=True)
            request = _Request(key, user_id, on_done, on_start)
            self._waiting.append(request)
            self._pump()
            if any(r is request for r in self._waiting):
                request.waited = True
                return FinetuneTicket(len(self._waiting), again=False)
            return FinetuneTicket(0, again=False)  # running, or failed to start (on_done says why)

    def queue_place(self, user_id: str) -> int | None:
        """The user's place in the fine-tune queue (0: running), or None when they have none."""
        key = user_key(user_id)
        with self._queue_lock:
            if key in self._running:
                return 0
            return next((i + 1 for i, r in enumerate(self._waiting) if r.key == key), None)

    def _pump(self) -> None:
        """Start queued fine-tunes while fewer than ``max_finetunes`` run (queue lock held)."""
        while self._waiting and len(self._running) < self.max_finetunes:
            request = self._waiting.pop(0)
            space = self.space(request.user_id)

            def finished(outcome: FinetuneOutcome | BaseException, request: _Request = request) -> None:
                with self._queue_lock:
                    if self._running.get(request.key) is request:
                        del self._running[request.key]
                    self._pump()
                if not request.cancelled:
                    request.on_done(outcome)

            try:
                job = space.start_finetune(self.finetune_config, on_done=finished)
            except OSError as exc:
                job, problem = None, exc
            else:
                problem = FinetuneBusy("a fine-tune of your model is already running, or private mode is on")
            if job is None:
                threading.Thread(target=request.on_done, args=(problem,), daemon=True).start()
                continue
            self._running[request.key] = request
            if request.waited and request.on_start is not None:
                threading.Thread(target=request.on_start, daemon=True).start()

    def forget(self, user_id: str) -> bool:
        """Stop the user's fine-tune (unreported), drop their predictor and delete their folder; True if anything
        existed."""
        key = user_key(user_id)
        with self._queue_lock:
            self._waiting = [r for r in self._waiting if r.key != key]
            if key in self._running:
                self._running[key].cancelled = True
        with self._lock:
            space = self._spaces.pop(key, None)
            self._slots.pop(key, None)
            for cached in [k for k in self._models if k[0] == key]:
                del self._models[cached]
        if space is not None:
            space.kill_finetune()  # no checkpoint worth keeping: everything of theirs goes
        return UserSpace(Layout.inside(self.root / key), self.base_dir, self.provider).delete()

    def close(self, wait_s: float = 10.0) -> None:
        """Cancel every running fine-tune (each saves a checkpoint and can resume later) and drop the queue."""
        with self._queue_lock:
            self._waiting.clear()
            for request in self._running.values():
                request.cancelled = True
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
