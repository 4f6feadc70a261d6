"""When the app fine-tunes on its own (the run itself is the user space's: :meth:`UserSpace.start_finetune`)."""

from __future__ import annotations

__all__ = ["should_learn"]


def should_learn(words_since_learn: int, auto: bool, after_words: int) -> bool:
    """Whether enough new text has been written to fine-tune on its own."""
    return auto and words_since_learn >= after_words
