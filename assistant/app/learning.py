"""Background learning for the app: when to fine-tune, and the one job at a time that does it."""

from __future__ import annotations

from collections.abc import Callable

from assistant.personal.finetune import FinetuneConfig, FinetuneOutcome
from assistant.personal.jobs import FinetuneProcess, FinetuneStep
from assistant.personal.outcome import held_out_gain, notice
from assistant.personal.space import UserSpace

__all__ = ["Learner", "describe", "held_out_gain", "should_learn"]

describe = notice
"""A one-line message and its severity for a finished fine-tune."""


class Learner:
    """Starts at most one fine-tune at a time, in a child process (the editor's interpreter stays free for typing);
    callbacks arrive on a relay thread."""

    def __init__(self, space: UserSpace, config: FinetuneConfig | None = None) -> None:
        self.space = space
        self.config = config or FinetuneConfig(threads=1)

    @property
    def job(self) -> FinetuneProcess | None:
        """The latest fine-tune (it may have finished)."""
        return self.space.job

    @property
    def running(self) -> bool:
        """True while a fine-tune is in progress."""
        return self.space.finetuning

    def start(
        self,
        on_progress: Callable[[FinetuneStep], None],
        on_done: Callable[[FinetuneOutcome | BaseException], None],
    ) -> bool:
        """Start a fine-tune on the store's documents; False if one is running already."""
        return self.space.start_finetune(self.config, on_progress, on_done) is not None

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel a running fine-tune (it checkpoints, and the next one resumes) and wait for it."""
        self.space.stop_finetune(timeout)


def should_learn(words_since_learn: int, auto: bool, after_words: int) -> bool:
    """Whether enough new text has been written to fine-tune on its own."""
    return auto and words_since_learn >= after_words
