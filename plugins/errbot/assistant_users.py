"""Each chat user's private corpus and models, and the predictors that answer them. No errbot here.

A user's files live in one folder named by a hash of their chat id (``<root>/<user_key>``): the opt-in flag
``learning``, the corpus ``corpus/`` (a :class:`DocumentStore`), model versions ``models/`` (a
:class:`ModelRegistry` over the shipped base model) and the fine-tuning work folder. Nothing is written for a user
who never turns learning on. Every user gets their own :class:`Predictor`; those without a personal model share
the base model's (int8) weights, so one user's text can never change another user's suggestions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from assistant.decode.generate import Generation, GenerationConfig
from assistant.engine.predictor import Predictor, Suggestions
from assistant.lm.io import LoadedModel, load_model
from assistant.lm.model import GRULanguageModel
from assistant.lm.quantize import quantize_for_inference
from assistant.store.documents import DocumentStore
from assistant.store.models import BASE, ModelRegistry
from assistant.text.words import count_words
from assistant.train.finetune import FinetuneConfig, FinetuneOutcome
from assistant.train.process_job import FinetuneProcess

log = logging.getLogger(__name__)

KEY_CHARS = 20
"""Hex digits of the SHA-256 of a chat id that name the user's folder."""
LEARNING_FLAG = "learning"
CORPUS = "corpus"
MODELS = "models"
WORK = "finetune-work"


def user_key(user_id: str) -> str:
    """The folder name for a chat id: a hash, so the id itself is stored nowhere."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:KEY_CHARS]


class MessageTooLong(ValueError):
    """A text over the configured size limit (refused, never stored)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"that message has {size:,} characters; the limit is {limit:,}, so it was not used")
        self.size = size
        self.limit = limit


class FinetuneBusy(RuntimeError):
    """A fine-tune of this user's model is already running."""


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


class UserSpace:
    """One user's folder. Reading never creates it; only opting in (or writing a model) does."""

    def __init__(self, folder: Path, base_dir: Path) -> None:
        self.folder = folder
        self.base_dir = base_dir

    @property
    def exists(self) -> bool:
        return self.folder.exists()

    @property
    def learning(self) -> bool:
        """Whether the user opted in to learning from their messages."""
        return (self.folder / LEARNING_FLAG).is_file()

    def set_learning(self, on: bool) -> None:
        """Write or remove the opt-in flag (turning it off creates nothing)."""
        flag = self.folder / LEARNING_FLAG
        if on:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            flag.write_text("on\n", encoding="utf-8")
            flag.chmod(0o600)
        else:
            flag.unlink(missing_ok=True)

    def corpus(self) -> DocumentStore:
        """The user's documents (created on first use)."""
        return DocumentStore(self.folder / CORPUS)

    def registry(self) -> ModelRegistry:
        """The user's model versions (created on first use)."""
        return ModelRegistry(self.folder / MODELS, self.base_dir)

    def active_version(self) -> str:
        """The active personal version, or ``base`` (without creating anything)."""
        if not (self.folder / MODELS).is_dir():
            return BASE
        return self.registry().active_name()

    def append(self, text: str, when: datetime | None = None) -> str:
        """Add ``text`` as a paragraph of this month's chat document; returns the document's name."""
        when = when or datetime.now()
        name = f"chat-{when:%Y-%m}.txt"
        return self.corpus().append(name, text, "chat").name

    def texts(self) -> dict[str, str]:
        """Every corpus document's text, by name."""
        if not (self.folder / CORPUS).is_dir():
            return {}
        store = self.corpus()
        return {d.name: store.read(d.name) for d in store.list()}

    def delete(self) -> bool:
        """Remove the folder and everything in it; True if there was one."""
        if not self.folder.exists():
            return False
        shutil.rmtree(self.folder)
        return True


@dataclasses.dataclass
class _Slot:
    """A user's predictor, the model version it was built from, and the lock that serialises its use."""

    version: str
    predictor: Predictor
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


_BASE_MODELS: dict[Path, tuple[LoadedModel, GRULanguageModel]] = {}
_BASE_LOCK = threading.Lock()


def shared_base_model(base_dir: Path) -> tuple[LoadedModel, GRULanguageModel]:
    """The base model and its int8 network, loaded once per process and shared by every base-model predictor."""
    key = base_dir.resolve()
    with _BASE_LOCK:
        if key not in _BASE_MODELS:
            lm = load_model(key)
            _BASE_MODELS[key] = (lm, quantize_for_inference(lm.model))
        return _BASE_MODELS[key]


class ChatUsers:
    """Every chat user's space under ``root``, their predictors (an LRU cache) and their fine-tuning jobs."""

    def __init__(
        self,
        root: Path,
        base_dir: Path,
        max_chars: int = 4000,
        finetune_config: FinetuneConfig | None = None,
        cache_size: int = 32,
    ) -> None:
        self.root = root
        self.base_dir = base_dir
        self.max_chars = max_chars
        self.finetune_config = finetune_config or FinetuneConfig(threads=1)
        self.cache_size = cache_size
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._jobs: dict[str, FinetuneProcess] = {}
        self._lock = threading.Lock()

    def space(self, user_id: str) -> UserSpace:
        return UserSpace(self.root / user_key(user_id), self.base_dir)

    def check_size(self, text: str) -> None:
        """Raise :class:`MessageTooLong` for a text over the limit."""
        if len(text) > self.max_chars:
            raise MessageTooLong(len(text), self.max_chars)

    # -- predictions ----------------------------------------------------------------------------------------
    def suggest(self, user_id: str, text: str, n: int) -> Suggestions:
        """Word candidates (and maybe a phrase) for ``text`` from this user's model."""
        self.check_size(text)
        with self._predictor(user_id) as predictor:
            return predictor.suggest(text, n)

    def continue_text(self, user_id: str, text: str, config: GenerationConfig) -> Generation:
        """A continuation of ``text`` from this user's model."""
        self.check_size(text)
        with self._predictor(user_id) as predictor:
            return predictor.continue_text(text, config)

    @contextmanager
    def _predictor(self, user_id: str) -> Iterator[Predictor]:
        """This user's predictor, held exclusively and with no state left from an earlier text."""
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
        if version == BASE:
            lm, network = shared_base_model(self.base_dir)
            slot = _Slot(BASE, Predictor(lm, model=network))
        else:
            active = space.registry().active()
            if active.warning:
                log.warning("user %s: %s", key, active.warning)
            slot = _Slot(version, Predictor(active.model))
        with self._lock:
            self._slots[key] = slot
            self._slots.move_to_end(key)
            while len(self._slots) > self.cache_size:
                self._slots.popitem(last=False)
        return slot

    # -- learning -------------------------------------------------------------------------------------------
    def learn(self, user_id: str, text: str) -> bool:
        """Store a message in the user's corpus if they opted in; True if stored. Too long: MessageTooLong."""
        space = self.space(user_id)
        if not space.learning or not text.strip():
            return False
        self.check_size(text)
        space.append(text)
        return True

    def status(self, user_id: str) -> UserStatus:
        space = self.space(user_id)
        texts = space.texts()
        return UserStatus(
            learning=space.learning,
            words=sum(count_words(t) for t in texts.values()),
            documents=len(texts),
            version=space.active_version(),
            finetuning=self.finetuning(user_id),
        )

    def finetuning(self, user_id: str) -> bool:
        job = self._jobs.get(user_key(user_id))
        return job is not None and job.running

    def start_finetune(
        self, user_id: str, on_done: Callable[[FinetuneOutcome | BaseException], None]
    ) -> FinetuneProcess:
        """Fine-tune the user's model on their corpus in a child process (the bot stays responsive and gets the
        training memory back); ``on_done`` gets the outcome."""
        key = user_key(user_id)
        space = self.space(user_id)
        with self._lock:
            if self.finetuning(user_id):
                raise FinetuneBusy("a fine-tune of your model is already running")
            work = space.folder / WORK
            work.mkdir(parents=True, exist_ok=True, mode=0o700)
            job = FinetuneProcess(
                space.corpus(),
                space.registry(),
                work,
                self.finetune_config,
                on_done=lambda outcome: self._finished(key, job, outcome, on_done),
            )
            self._jobs[key] = job
        job.start()
        return job

    def _finished(
        self,
        key: str,
        job: FinetuneProcess,
        outcome: FinetuneOutcome | BaseException,
        on_done: Callable[[FinetuneOutcome | BaseException], None],
    ) -> None:
        """Report a job's end unless the user had it stopped by ``forget`` (or the plugin closed)."""
        with self._lock:
            current = self._jobs.get(key) is job
        if current:
            on_done(outcome)

    def forget(self, user_id: str) -> bool:
        """Stop the user's fine-tune (unreported), drop their predictor and delete their folder; True if anything
        existed."""
        key = user_key(user_id)
        with self._lock:
            job = self._jobs.pop(key, None)
            self._slots.pop(key, None)
        if job is not None:
            job.kill()  # no checkpoint worth keeping: everything of theirs goes
        return self.space(user_id).delete()

    def close(self, wait_s: float = 10.0) -> None:
        """Cancel every running fine-tune (each saves a checkpoint and can resume later)."""
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
            self._slots.clear()
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.join(wait_s)
