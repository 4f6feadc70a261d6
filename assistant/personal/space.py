"""A user's space: one document store, one model registry, the predictors and the fine-tune that go with them.

Every change to the user's documents goes through :class:`UserSpace` (:meth:`~UserSpace.save`,
:meth:`~UserSpace.rename`, :meth:`~UserSpace.remove`, :meth:`~UserSpace.import_paths`), so whatever follows the
documents (a personal memory, say) is kept up to date in one place. Reading never creates anything on disk.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.engine.guard import SuggestionGuard
from assistant.engine.predictor import PhraseSettings, Predictor
from assistant.personal.finetune import FinetuneConfig, FinetuneOutcome, run_finetune
from assistant.personal.jobs import FinetuneProcess, FinetuneStep
from assistant.personal.models import BASE, PERSONAL, Model, ModelLoadError, ModelProvider, make_predictor
from assistant.shipped import base_model_dir
from assistant.store.blocklist import Controls, ControlsError
from assistant.store.documents import Document, DocumentStore, ImportResult
from assistant.store.memory import PersonalMemory, SyncReport
from assistant.store.models import ModelRegistry
from assistant.store.paths import Paths
from assistant.store.privacy import LearnFilter

__all__ = ["Layout", "UserSpace"]

log = logging.getLogger(__name__)

MEMORY_SAVE_INTERVAL_S = 30.0
"""The personal memory's file is rewritten at most this often while documents change (and on :meth:`close`);
a memory saved earlier is brought up to date from the documents when it loads, so nothing is lost between."""


@dataclass(frozen=True)
class Layout:
    """Where a user's files live."""

    documents: Path
    models: Path
    work: Path
    """The fine-tune's work folder (checkpoints to resume from)."""
    journal: Path | None = None
    """The fine-tune journal (JSON lines), if one is kept."""
    folder: Path | None = None
    """One folder holding all of the above, if there is one (a chat user's; deleting the space removes it)."""

    @classmethod
    def desktop(cls, paths: Paths) -> Layout:
        """The person at this machine: the ``ASSISTANT_HOME`` / platformdirs layout."""
        return cls(paths.documents, paths.models, paths.cache / "finetune", paths.logs / "finetune.log")

    @classmethod
    def inside(cls, folder: Path) -> Layout:
        """Everything in one folder (``corpus/``, ``models/``, ``finetune-work/``)."""
        return cls(folder / "corpus", folder / "models", folder / "finetune-work", None, folder)


class UserSpace:
    """One user's documents, models, predictors and fine-tune."""

    def __init__(self, layout: Layout, base_dir: Path | None = None, provider: ModelProvider | None = None) -> None:
        self.layout = layout
        self.base_dir = base_dir or base_model_dir()
        self.provider = provider or ModelProvider()
        self._store: DocumentStore | None = None
        self._registry: ModelRegistry | None = None
        self._lock = threading.RLock()
        self.job: FinetuneProcess | None = None
        """The latest fine-tune started here (it may have finished)."""
        self.notices: list[str] = []
        """Messages for the user from opening the space's parts (a rebuilt memory file, say)."""
        self._memory: PersonalMemory | None = None
        self._memory_saved = 0.0
        self._predictors: weakref.WeakSet[Predictor] = weakref.WeakSet()
        self.editing: str | None = None
        """The document open in an editor: its saves reach the personal memory once it is closed (while it is
        open, the document memory follows it keystroke by keystroke, so a half-typed word is never learned)."""
        self.private = False
        """Private mode: nothing is learned while it is on (no personal memory sync, no fine-tune); documents
        are still saved, and what changed is learned once it is off (mark a document "do not learn" to keep it
        out for good)."""

    @classmethod
    def at(cls, paths: Paths, base_dir: Path | None = None, provider: ModelProvider | None = None) -> UserSpace:
        """The desktop user's space under ``paths``."""
        return cls(Layout.desktop(paths), base_dir, provider)

    @classmethod
    def default(cls) -> UserSpace:
        """The desktop user's space (``ASSISTANT_HOME`` or the platform's folders) over the shipped base model."""
        return cls.at(Paths.default())

    # -- parts (created on first use) ---------------------------------------------------------------------------
    @property
    def store(self) -> DocumentStore:
        """The user's documents (StoreError or OSError if the folder cannot be used)."""
        with self._lock:
            if self._store is None:
                self._store = DocumentStore(self.layout.documents)
            return self._store

    @property
    def registry(self) -> ModelRegistry:
        """The user's model versions over the base model."""
        with self._lock:
            if self._registry is None:
                self._registry = ModelRegistry(self.layout.models, self.base_dir)
            return self._registry

    # -- models ---------------------------------------------------------------------------------------------------
    def active_version(self) -> str:
        """The active personal version, or ``base`` (without creating anything)."""
        if not self.layout.models.is_dir():
            return BASE
        return self.registry.active_name()

    def model(self) -> Model:
        """The active model (a damaged version falls back to its parents, then the base; the model's warning
        says so)."""
        if self.active_version() == BASE:
            return self.provider.base(self.base_dir)
        return self.provider.active(self.registry)

    def choose(self, choice: str) -> tuple[Model, list[str]]:
        """The model a front end's ``model`` option names, and warnings about what could not be used.

        ``personal`` is the active personal model, ``base`` the base model, anything else a model folder; a
        folder that cannot be loaded falls back to ``personal``."""
        warnings: list[str] = []
        if choice == BASE:
            return self.provider.base(self.base_dir), warnings
        if choice != PERSONAL:
            folder = Path(choice).expanduser()
            try:
                return self.provider.folder(folder), warnings
            except (ModelLoadError, OSError) as exc:
                warnings.append(f"model folder {str(folder)!r} cannot be loaded ({exc}); using the personal model")
        model = self.model()
        if model.warning:
            warnings.append(model.warning)
        return model, warnings

    def predictor(self, model: Model | None = None, phrase: PhraseSettings | None = None) -> Predictor:
        """A fresh predictor over ``model`` (default: the active model), with the user's personal memory and
        privacy controls."""
        predictor = make_predictor(model or self.model(), phrase, personal=self.memory(), guard=self.guard())
        self._predictors.add(predictor)
        return predictor

    # -- what is learned and shown ------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The folder holding the documents and models folders (privacy controls and the memory live there)."""
        return self.layout.documents.parent

    def controls(self) -> Controls:
        """The user's blocked, rejected and forgotten words and "do not learn" documents."""
        return Controls.at(self.data_dir)

    def learn_filter(self) -> LearnFilter:
        """What may be learned from the documents (their settings and controls, read now)."""
        return LearnFilter.for_data_dir(self.data_dir)

    def guard(self) -> SuggestionGuard:
        """The check every suggestion passes before it is shown."""
        return SuggestionGuard(self.controls(), self.learn_filter().filter_secrets)

    def memory(self) -> PersonalMemory | None:
        """The personal memory of the user's documents (None while the user has none; nothing is created)."""
        with self._lock:
            if self._memory is None and self.layout.documents.is_dir():
                learn = self._readable_learn_filter()
                if learn is None:
                    return None
                self._memory = PersonalMemory.for_store(self.store, self.notices.append, learn)
                self._memory_saved = time.monotonic()
                for predictor in self._predictors:
                    predictor.personal = self._memory
            return self._memory

    def sync_memory(self, save: bool | None = None) -> SyncReport | None:
        """Bring the personal memory up to date with the documents (only changed paragraphs); its file is
        written when ``save``, or (None) when the last write is older than ``MEMORY_SAVE_INTERVAL_S``."""
        with self._lock:
            if self.private:
                return None
            fresh = self._memory is None
            memory = self.memory()
            if memory is None or fresh:
                return None
            if save is None:
                save = time.monotonic() - self._memory_saved >= MEMORY_SAVE_INTERVAL_S
            learn = self._readable_learn_filter()
            if learn is None:
                return None
            report = memory.sync(self.store, save=save, learn=learn, hold=self._held())
            if save:
                self._memory_saved = time.monotonic()
            return report

    def _readable_learn_filter(self) -> LearnFilter | None:
        """The learn filter, or None (with a notice) while the controls file is damaged."""
        learn = self.learn_filter()
        try:
            learn.fingerprint()  # reads the controls: a damaged file shows here
        except ControlsError as exc:
            self._note(f"{exc}; the personal memory waits until it is fixed")
            return None
        return learn

    def _note(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)
            log.warning("%s", message)

    def _held(self) -> tuple[str, ...]:
        return (self.editing,) if self.editing else ()

    def edit(self, name: str | None) -> None:
        """``name`` is now the document open in the editor (None: none); the one closed is learned."""
        with self._lock:
            if name == self.editing:
                return
            self.editing = name
            self.sync_memory()

    def close(self) -> None:
        """Write what is not yet on disk (the personal memory), counting the document that was open."""
        with self._lock:
            self.editing = None
            if self._memory is not None and self._memory.path is not None:
                self.sync_memory(save=True)

    # -- documents ------------------------------------------------------------------------------------------------
    def texts(self) -> dict[str, str]:
        """Every document's text, by name ({} without creating anything when there are none)."""
        if not self.layout.documents.is_dir():
            return {}
        store = self.store
        return {d.name: store.read(d.name) for d in store.list()}

    def save(self, name: str, text: str, source: str = "") -> Document:
        """Write document ``name`` (created or replaced)."""
        doc = self.store.save(name, text, source)
        self.sync_memory()
        return doc

    def save_for_source(self, source: str, name: str, text: str) -> Document:
        """Write ``text`` as the document saved from ``source`` before (else a new one named after ``name``)."""
        doc = self.store.save_for_source(source, name, text)
        self.sync_memory()
        return doc

    def append(self, name: str, text: str, source: str = "") -> Document:
        """Add ``text`` as a new paragraph at the end of document ``name`` (created if missing)."""
        doc = self.store.append(name, text, source)
        self.sync_memory()
        return doc

    def rename(self, old: str, new: str) -> Document:
        """Rename a document (KeyError if missing, StoreError if the name is taken)."""
        doc = self.store.rename(old, new)
        self.controls().rename_document(old, new)
        self.sync_memory()
        return doc

    def remove(self, name: str) -> None:
        """Delete a document (KeyError if missing); its words leave the model versions' lexicons."""
        self.store.remove(name)
        self.registry.refresh_lexicons(self.learn_filter().documents(self.texts()).values())
        self.sync_memory()

    def import_paths(self, paths: Iterable[Path], max_bytes: int, mail_from: Iterable[str] = ()) -> list[ImportResult]:
        """Copy text files (or folders of them), mbox files and Maildir folders in; one result per file or
        message (``mail_from``: keep only mail sent from these addresses)."""
        results = self.store.import_paths(paths, max_bytes, mail_from=tuple(mail_from))
        self.sync_memory()
        return results

    def delete(self) -> bool:
        """Remove the space's folder and everything in it (a chat user's ``forget``); True if there was one."""
        folder = self.layout.folder
        if folder is None:
            raise ValueError("this space has no folder of its own to delete")
        if not folder.exists():
            return False
        shutil.rmtree(folder)
        return True

    # -- fine-tuning ----------------------------------------------------------------------------------------------
    def run_finetune(
        self,
        config: FinetuneConfig,
        on_step: Callable[[int, int, float], None] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> FinetuneOutcome:
        """Fine-tune on every document now, in this thread (the command line)."""
        work = self.layout.work
        work.mkdir(parents=True, exist_ok=True, mode=0o700)
        return run_finetune(self.store, self.registry, work, config, on_step, log=log, journal=self.layout.journal)

    @property
    def finetuning(self) -> bool:
        """True while a background fine-tune runs."""
        return self.job is not None and self.job.running

    def start_finetune(
        self,
        config: FinetuneConfig,
        on_progress: Callable[[FinetuneStep], None] | None = None,
        on_done: Callable[[FinetuneOutcome | BaseException], None] | None = None,
    ) -> FinetuneProcess | None:
        """Fine-tune on every document in a child process; None if one is running already or in private mode.
        The callbacks come on a relay thread."""
        with self._lock:
            if self.finetuning or self.private:
                return None
            work = self.layout.work
            work.mkdir(parents=True, exist_ok=True, mode=0o700)
            job = FinetuneProcess(
                self.store,
                self.registry,
                work,
                config,
                on_progress,
                on_done,
                self.layout.journal,
            )
            self.job = job
        job.start()
        return job

    def stop_finetune(self, timeout: float = 10.0) -> None:
        """Cancel a running fine-tune (it checkpoints, and the next one resumes) and wait up to ``timeout``."""
        job = self.job
        if job is not None and job.running:
            job.cancel()
            job.join(timeout)

    def kill_finetune(self) -> None:
        """End a running fine-tune at once, without a checkpoint."""
        job = self.job
        if job is not None and job.running:
            job.kill()
