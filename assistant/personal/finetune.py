"""Personal fine-tunes: one run over a user's documents (:func:`run_finetune`), now or in the background
(:class:`FinetuneJob` in a thread, :class:`FinetuneProcess` in a child process: the caller's interpreter stays free,
with no shared lock with its UI thread, and the training memory goes back to the system when the run ends).

A run learns only what the user's :class:`~assistant.store.privacy.LearnFilter` allows; the user's space builds
that filter and hands it down (to a child process too). Background jobs report through callbacks on a thread of
the caller: progress at each step, then the outcome. Cancelling asks the run to stop after its current step (it
checkpoints first); a child that dies without a result (killed, out of memory) is reported as an error, and the
next run resumes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from assistant.store.documents import DocumentStore
from assistant.store.journal import append_record
from assistant.store.models import ModelRegistry
from assistant.store.privacy import LearnFilter
from assistant.train.finetune import FinetuneBusy, FinetuneConfig, FinetuneError, FinetuneOutcome, finetune

__all__ = [
    "OK_STATUSES",
    "FinetuneBusy",
    "FinetuneConfig",
    "FinetuneError",
    "FinetuneJob",
    "FinetuneOutcome",
    "FinetuneProcess",
    "FinetuneStep",
    "run_finetune",
]

OK_STATUSES = ("accepted", "nothing-new", "rejected", "too-little")
"""Outcomes that are not a failure (the command line exits 0 on them)."""


def run_finetune(
    store: DocumentStore,
    registry: ModelRegistry,
    work_dir: Path,
    config: FinetuneConfig,
    on_step: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
    journal: Path | None = None,
    learn: LearnFilter | None = None,
) -> FinetuneOutcome:
    """Fine-tune on what ``learn`` allows of the store's documents (default: all, secrets removed), record what
    the new version has seen, and append the outcome to ``journal`` (a JSON-lines file) when given."""
    docs = {d.name: store.read(d.name) for d in store.list()}
    kwargs = {"log": log} if log is not None else {}
    outcome = finetune(
        registry, docs, work_dir, config, on_step=on_step, should_stop=should_stop, learn=learn, **kwargs
    )
    if outcome.version is not None:
        store.mark_seen(outcome.version.name, docs)
    if journal is not None:
        append_record(
            journal,
            {
                "status": outcome.status,
                "message": outcome.message,
                "metrics": outcome.version.metrics if outcome.version else None,
            },
        )
    return outcome


@dataclass(frozen=True)
class FinetuneStep:
    """One step of a running fine-tune."""

    step: int
    total: int
    loss: float


class FinetuneJob:
    """Runs :func:`finetune` on the store's documents in a daemon thread (one torch thread: typing stays
    responsive). ``on_progress`` and ``on_done`` are called from the worker thread."""

    def __init__(
        self,
        store: DocumentStore,
        registry: ModelRegistry,
        work_dir: Path,
        config: FinetuneConfig | None = None,
        on_progress: Callable[[FinetuneStep], None] | None = None,
        on_done: Callable[[FinetuneOutcome | BaseException], None] | None = None,
        journal: Path | None = None,
        learn: LearnFilter | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.work_dir = work_dir
        self.config = config or FinetuneConfig(threads=1)
        self.on_progress = on_progress
        self.on_done = on_done
        self.journal = journal
        """Where the outcome is appended (a JSON-lines file), if anywhere."""
        self.learn = learn
        """What may be learned (the user's space decides)."""
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.outcome: FinetuneOutcome | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        """Start the worker (once)."""
        if self._thread is not None:
            raise RuntimeError("this job was started already")
        self._thread = threading.Thread(target=self._run, name="finetune", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the worker to stop after the current step (it saves a checkpoint first)."""
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True when it has finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.outcome = run_finetune(
                self.store,
                self.registry,
                self.work_dir,
                self.config,
                self._step,
                self._cancel.is_set,
                journal=self.journal,
                learn=self.learn,
            )
            result: FinetuneOutcome | BaseException = self.outcome
        except BaseException as exc:  # reported to the caller, never lost in the thread
            self.error = exc
            result = exc
        if self.on_done is not None:
            self.on_done(result)

    def _step(self, step: int, total: int, loss: float) -> None:
        if self.on_progress is not None:
            self.on_progress(FinetuneStep(step, total, loss))


_POLL_S = 0.2


def _child(
    documents: Path,
    models: Path,
    base_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
    journal: Path | None,
    learn: LearnFilter | None,
    events: mp.Queue[tuple[str, Any]],
    cancel: Event,
) -> None:
    """The child's whole life: fine-tune, report each step and the outcome (or the error) through ``events``.

    Its output goes nowhere: the parent may be drawing a full-screen UI on the terminal they share.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        outcome = run_finetune(
            DocumentStore(documents),
            ModelRegistry(models, base_dir),
            work_dir,
            config,
            on_step=lambda step, total, loss: events.put(("progress", FinetuneStep(step, total, loss))),
            should_stop=cancel.is_set,
            journal=journal,
            learn=learn,
        )
        events.put(("done", outcome))
    except BaseException as exc:  # reported to the parent, which raises nothing in its UI
        events.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        events.close()
        events.join_thread()


def _ensure_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with a real stderr: a UI that captures ``sys.stderr`` (Textual
    does) gives it an object without a file descriptor, and starting the tracker would fail."""
    saved = sys.stderr
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        sys.stderr = sys.__stderr__
    else:
        if saved.fileno() < 0:
            sys.stderr = sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = saved


class FinetuneProcess(FinetuneJob):
    """Runs :func:`run_finetune` on the store's documents in a spawned child process; the job's thread starts the
    child and relays what it reports."""

    def __init__(
        self,
        store: DocumentStore,
        registry: ModelRegistry,
        work_dir: Path,
        config: FinetuneConfig | None = None,
        on_progress: Callable[[FinetuneStep], None] | None = None,
        on_done: Callable[[FinetuneOutcome | BaseException], None] | None = None,
        journal: Path | None = None,
        learn: LearnFilter | None = None,
    ) -> None:
        super().__init__(store, registry, work_dir, config, on_progress, on_done, journal, learn)
        _ensure_resource_tracker()  # before the queue and the event, which register with it
        context = mp.get_context("spawn")  # no fork of a process with threads (the UI's, torch's)
        self._events: mp.Queue[tuple[str, Any]] = context.Queue()
        self._cancel = context.Event()  # type: ignore[assignment]  # same set/is_set, shared with the child
        self._process = context.Process(
            target=_child,
            args=(
                store.root,
                registry.root,
                registry.base_dir,
                work_dir,
                self.config,
                journal,
                learn,
                self._events,
                self._cancel,
            ),
            name="finetune",
            daemon=True,
        )

    def start(self) -> None:
        """Start the child, then the thread that relays its reports (once)."""
        if self._thread is not None:
            raise RuntimeError("this job was started already")
        self._process.start()
        super().start()

    def kill(self) -> None:
        """End the child at once, without a checkpoint (its data is about to be deleted, say); waits for it."""
        self._cancel.set()
        if self._process.is_alive():
            self._process.kill()
        self.join(30)

    def _run(self) -> None:
        result: FinetuneOutcome | BaseException | None = None
        while result is None:
            try:
                kind, payload = self._events.get(timeout=_POLL_S)
            except queue.Empty:
                if not self._process.is_alive():
                    self._process.join()
                    result = RuntimeError(
                        f"the fine-tuning process ended without a result (exit code "
                        f"{self._process.exitcode}); the next run resumes from its checkpoint"
                    )
                continue
            if kind == "progress":
                if self.on_progress is not None:
                    self.on_progress(payload)
            elif kind == "done":
                result = self.outcome = payload
            else:
                result = RuntimeError(payload)
        if isinstance(result, BaseException):
            self.error = result
        self._process.join(timeout=30)
        if self.on_done is not None:
            self.on_done(result)
