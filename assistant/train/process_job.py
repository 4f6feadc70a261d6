"""Fine-tuning in a child process: the caller's interpreter stays free (no shared lock with its UI thread) and the
training memory goes back to the system when the run ends.

Same interface as :class:`assistant.train.job.FinetuneJob`; the callbacks run on a thread of the caller that relays
what the child reports. Cancelling asks the child to stop after its current step (it checkpoints first); a child
that dies without a result (killed, out of memory) is reported as an error, and the next run resumes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
from collections.abc import Callable
from multiprocessing import resource_tracker
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry
from assistant.train.finetune import FinetuneConfig, FinetuneOutcome
from assistant.train.job import FinetuneJob, Progress, run_finetune

_POLL_S = 0.2


def _child(
    documents: Path,
    models: Path,
    base_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
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
            on_step=lambda step, total, loss: events.put(("progress", Progress(step, total, loss))),
            should_stop=cancel.is_set,
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
        on_progress: Callable[[Progress], None] | None = None,
        on_done: Callable[[FinetuneOutcome | BaseException], None] | None = None,
    ) -> None:
        super().__init__(store, registry, work_dir, config, on_progress, on_done)
        _ensure_resource_tracker()  # before the queue and the event, which register with it
        context = mp.get_context("spawn")  # no fork of a process with threads (the UI's, torch's)
        self._events: mp.Queue[tuple[str, Any]] = context.Queue()
        self._cancel = context.Event()  # type: ignore[assignment]  # same set/is_set, shared with the child
        self._process = context.Process(
            target=_child,
            args=(store.root, registry.root, registry.base_dir, work_dir, self.config, self._events, self._cancel),
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
