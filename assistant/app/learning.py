"""Background learning for the app: when to fine-tune, and what to tell the user about the outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.store.documents import DocumentStore
from assistant.store.models import ModelRegistry
from assistant.train.finetune import FinetuneConfig, FinetuneOutcome
from assistant.train.job import Progress
from assistant.train.process_job import FinetuneProcess


class Learner:
    """Starts at most one fine-tune at a time, in a child process (the editor's interpreter stays free for typing);
    callbacks arrive on a relay thread."""

    def __init__(
        self,
        store: DocumentStore,
        registry: ModelRegistry,
        work_dir: Path,
        config: FinetuneConfig | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.work_dir = work_dir
        self.config = config or FinetuneConfig(threads=1)
        self.job: FinetuneProcess | None = None

    @property
    def running(self) -> bool:
        """True while a fine-tune is in progress."""
        return self.job is not None and self.job.running

    def start(
        self,
        on_progress: Callable[[Progress], None],
        on_done: Callable[[FinetuneOutcome | BaseException], None],
    ) -> bool:
        """Start a fine-tune on the store's documents; False if one is running already."""
        if self.running:
            return False
        self.job = FinetuneProcess(self.store, self.registry, self.work_dir, self.config, on_progress, on_done)
        self.job.start()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel a running fine-tune (it checkpoints, and the next one resumes) and wait for it."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.job.join(timeout)


def should_learn(words_since_learn: int, auto: bool, after_words: int) -> bool:
    """Whether enough new text has been written to fine-tune on its own."""
    return auto and words_since_learn >= after_words


def held_out_gain(metrics: dict[str, float] | None) -> float | None:
    """How much better a version predicts the user's held-out text than its parent, in % of bits per character."""
    if not metrics:
        return None
    before, after = metrics.get("holdout_bpc_before"), metrics.get("holdout_bpc_after")
    if not before or after is None:
        return None
    return 100 * (before - after) / before


def describe(outcome: FinetuneOutcome | BaseException) -> tuple[str, str]:
    """A one-line message and its severity (``information``, ``warning`` or ``error``) for a finished fine-tune."""
    if isinstance(outcome, BaseException):
        return f"Learning failed: {outcome}", "error"
    if outcome.status == "accepted" and outcome.version is not None:
        m = outcome.version.metrics
        gain = held_out_gain(m)
        detail = ""
        if gain is not None:
            before, after = m["holdout_bpc_before"], m["holdout_bpc_after"]
            detail = f", {gain:+.1f}% on your held-out text ({before:.3f} -> {after:.3f} bits/char)"
        return f"Learned your style: model {outcome.version.name}{detail}", "information"
    if outcome.status in ("nothing-new", "too-little"):
        return outcome.message, "information"
    if outcome.status == "cancelled":
        return "Learning paused; it resumes next time", "information"
    return outcome.message, "warning"
