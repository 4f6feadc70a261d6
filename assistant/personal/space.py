"""A user's space: one document store, one model registry, the predictors and the fine-tune that go with them.

Every change to the user's documents goes through :class:`UserSpace` (:meth:`~UserSpace.save`,
:meth:`~UserSpace.rename`, :meth:`~UserSpace.remove`, :meth:`~UserSpace.import_paths`), so whatever follows the
documents (a personal memory, say) is kept up to date in one place. Reading never creates anything on disk.

Privacy is decided here, once: :meth:`UserSpace.learn_filter` and :meth:`UserSpace.guard` come from this user's
settings and controls and are handed to the memory, every fine-tune and every predictor; nothing below reads the
environment or guesses the user from a path. Private mode is marked in the store (the controls file), so other
processes keep out what is written in it. :meth:`UserSpace.model_changed` tells a running front end that another
process made another model version active.
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

from assistant.atomic import private_dir
from assistant.engine.guard import SuggestionGuard
from assistant.engine.predictor import PhraseSettings, Predictor
from assistant.personal.finetune import FinetuneConfig, FinetuneOutcome, FinetuneProcess, FinetuneStep, run_finetune
from assistant.personal.memory import PersonalMemory, SyncReport
from assistant.personal.models import BASE, PERSONAL, Model, ModelLoadError, ModelProvider, make_predictor
from assistant.shipped import base_model_dir
from assistant.store.blocklist import Controls, ControlsError
from assistant.store.documents import Document, DocumentStore, ImportResult
from assistant.store.models import ACTIVE, ModelRegistry
from assistant.store.paths import Paths
from assistant.store.privacy import LearnFilter, paragraph_keys
from assistant.store.settings import Settings

__all__ = ["Layout", "UserSpace"]

log = logging.getLogger(__name__)

MODEL_CHECK_S = 1.0
"""How often :meth:`UserSpace.model_changed` looks at the active-version pointer at most (one ``stat``)."""

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
    config: Path | None = None
    """The user's settings folder (its ``[privacy] filter_secrets`` applies), if they have one; without one,
    secrets are always filtered."""

    @classmethod
    def desktop(cls, paths: Paths) -> Layout:
        """The person at this machine: the ``ASSISTANT_HOME`` / platformdirs layout."""
        return cls(
            paths.documents, paths.models, paths.cache / "finetune", paths.logs / "finetune.log", config=paths.config
        )

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
        self._controls: Controls | None = None
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
        self._private = False
        self.model_check_s = MODEL_CHECK_S
        """The least time between two looks at the active-version pointer (0: every call)."""
        self._pointer: tuple[tuple[int, int, int] | None, str] | None = None
        """The pointer file's stamp and the version it named when the model was last loaded here."""
        self._checked = 0.0

    @property
    def private(self) -> bool:
        """Private mode: nothing written while it is on is learned, by this process or any other (no personal
        memory sync, no fine-tune here; what is saved is marked in the store's controls, so the command line,
        the language server and the bot leave it out too). Documents are still saved. Turning it off learns
        what was written (:meth:`end_private` can keep it out for good)."""
        return self._private

    @private.setter
    def private(self, on: bool) -> None:
        if self._private and not on:
            self.end_private(learn=True)
        self._private = on

    def end_private(self, learn: bool = True) -> int:
        """Leave private mode: what was written in it is learned from now on (``learn``), or never. Returns how
        many paragraphs were held."""
        self._private = False
        controls = self.controls()
        try:
            return controls.end_private(learn) if controls.held_private() else 0
        except ControlsError as exc:
            self._note(f"{exc}; what was written in private mode stays held until it is fixed")
            return 0

    def _hold_private(self, new: str, old: str = "") -> None:
        """In private mode, mark the paragraphs of ``new`` that ``old`` (the document's saved text) lacks: done
        before the document is written, so no other process can learn them in between."""
        if self._private:
            known = set(paragraph_keys(old))
            try:
                self.controls().hold_private(k for k in paragraph_keys(new) if k not in known)
            except ControlsError as exc:  # nothing learns while the file is damaged; the save itself goes on
                self._note(f"{exc}; private mode cannot mark what you write until it is fixed")

    def _saved_text(self, name: str) -> str:
        try:
            return self.store.read(name)
        except (KeyError, OSError, UnicodeDecodeError):
            return ""

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
        says so). :meth:`model_changed` tells when another one became active since."""
        stamp = self._pointer_stamp()
        version = self.active_version()
        self._pointer = (stamp, version)
        damaged = self.layout.models.is_dir() and self.registry.pointer_problem()
        if version == BASE and not damaged:
            return self.provider.base(self.base_dir)
        return self.provider.active(self.registry)  # a damaged pointer: the base model, with a warning

    def model_changed(self) -> bool:
        """Whether another version became active since :meth:`model` last loaded one here (a fine-tune,
        ``model use``, a rollback or a reset, in this process or another): a front end then loads the model
        again. Cheap enough for every request: at most one ``stat`` of the pointer per ``model_check_s`` (the
        file is read only when the stat changed); False until a model was loaded, and while this space's own
        fine-tune runs (its outcome says when to load)."""
        if self._pointer is None or self.finetuning:
            return False
        now = time.monotonic()
        if now - self._checked < self.model_check_s:
            return False
        self._checked = now
        stamp = self._pointer_stamp()
        loaded_stamp, loaded = self._pointer
        if stamp == loaded_stamp:
            return False
        version = self.active_version()
        if version == loaded:  # rewritten with the same name: nothing to load
            self._pointer = (stamp, loaded)
            return False
        return True

    def _pointer_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = (self.layout.models / ACTIVE).stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)  # the registry writes it atomically: a new inode each time

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

    def predictor(self, model: Model | None = None, phrase_settings: PhraseSettings | None = None) -> Predictor:
        """A fresh predictor over ``model`` (default: the active model), with the user's personal memory and
        privacy controls."""
        predictor = make_predictor(model or self.model(), phrase_settings, personal=self.memory(), guard=self.guard())
        self._predictors.add(predictor)
        return predictor

    # -- what is learned and shown ------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The folder holding the documents and models folders (privacy controls and the memory live there)."""
        return self.layout.documents.parent

    def controls(self) -> Controls:
        """The user's blocked, rejected and forgotten words and "do not learn" documents (one object per space:
        it re-reads the file only when it changed)."""
        with self._lock:
            if self._controls is None:
                self._controls = Controls.at(self.data_dir)
            return self._controls

    def filter_secrets(self) -> bool:
        """Whether secrets are kept out of learning and suggestions (the user's ``[privacy] filter_secrets``
        setting, read now; always for a space without settings)."""
        if self.layout.config is None:
            return True
        return Settings.load(self.layout.config).privacy.filter_secrets

    def learn_filter(self) -> LearnFilter:
        """What may be learned from the documents: the one filter of this user, decided here (their settings and
        controls) and handed to the personal memory and every fine-tune."""
        return LearnFilter(self.filter_secrets(), self.controls())

    def guard(self) -> SuggestionGuard:
        """The check every suggestion passes before it is shown."""
        return SuggestionGuard(self.controls(), self.filter_secrets())

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
            log.info("%s", message)  # each front end shows its notices (the CLI at the end, the app with the model)

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
        if self._private:
            self._hold_private(text, self._saved_text(name))
        doc = self.store.save(name, text, source)
        self.sync_memory()
        return doc

    def save_for_source(self, source: str, name: str, text: str) -> Document:
        """Write ``text`` as the document saved from ``source`` before (else a new one named after ``name``)."""
        if self._private:
            old = next((d.name for d in self.store.list() if d.source == source), None)
            self._hold_private(text, self._saved_text(old) if old is not None else "")
        doc = self.store.save_for_source(source, name, text)
        self.sync_memory()
        return doc

    def append(self, name: str, text: str, source: str = "") -> Document:
        """Add ``text`` as a new paragraph at the end of document ``name`` (created if missing)."""
        self._hold_private(text)
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
        should_stop: Callable[[], bool] | None = None,
    ) -> FinetuneOutcome:
        """Fine-tune on every document now, in this thread (the command line); ``should_stop`` ends the run after
        a step, checkpointed (a ``cancelled`` outcome). ControlsError (before anything is done) while the
        controls file is damaged."""
        learn = self.learn_filter()
        learn.fingerprint()  # reads the controls: a damaged file stops the run here, with its message
        work = self.layout.work
        private_dir(work)
        return run_finetune(
            self.store,
            self.registry,
            work,
            config,
            on_step,
            should_stop,
            log=log,
            journal=self.layout.journal,
            learn=learn,
        )

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
            private_dir(work)
            job = FinetuneProcess(
                self.store,
                self.registry,
                work,
                config,
                on_progress,
                on_done,
                self.layout.journal,
                self.learn_filter(),
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
