"""Fine-tuning in a background thread: progress callbacks, cancel at any step, resume on the next start."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry
from assistant.train.finetune import FinetuneConfig, FinetuneOutcome, finetune


@dataclass(frozen=True)
class Progress:
    """One step of a running job."""

    step: int
    total: int
    loss: float


def run_finetune(
    store: DocumentStore,
    registry: ModelRegistry,
    work_dir: Path,
    config: FinetuneConfig,
    on_step: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FinetuneOutcome:
    """Fine-tune on every document of the store and record what the new version has seen."""
    docs = {d.name: store.read(d.name) for d in store.list()}
    outcome = finetune(registry, docs, work_dir, config, on_step=on_step, should_stop=should_stop)
    if outcome.version is not None:
        store.mark_seen(outcome.version.name, docs)
    return outcome


class FinetuneJob:
    """Runs :func:`finetune` on the store's documents in a daemon thread (one torch thread: typing stays
    responsive). ``on_progress`` and ``on_done`` are called from the worker thread."""

    def __init__(
        self,
        store: DocumentStore,
        registry: ModelRegistry,
        work_dir: Path,
        config: FinetuneConfig | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_done: Callable[[FinetuneOutcome | BaseException], None] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.work_dir = work_dir
        self.config = config or FinetuneConfig(threads=1)
        self.on_progress = on_progress
        self.on_done = on_done
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
                self.store, self.registry, self.work_dir, self.config, self._step, self._cancel.is_set
            )
            result: FinetuneOutcome | BaseException = self.outcome
        except BaseException as exc:  # reported to the caller, never lost in the thread
            self.error = exc
            result = exc
        if self.on_done is not None:
            self.on_done(result)

    def _step(self, step: int, total: int, loss: float) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(step, total, loss))
