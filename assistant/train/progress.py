"""A training progress bar with tokens/s (rich when installed; plain log lines otherwise)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any


class TrainingProgress:
    """Shows steps done, tokens per second, loss and learning rate; ``log`` prints above the bar."""

    def __init__(self, total: int, completed: int = 0, enabled: bool = True, logging: bool = True) -> None:
        self.total = total
        self.completed = completed
        self.enabled = enabled
        """Whether the bar is drawn."""
        self.logging = logging
        """Whether :meth:`log` lines are printed (also without a bar)."""
        self._progress: Any = None
        self._task: Any = None
        self._t0 = time.monotonic()
        self._tokens = 0
        self._last_plain = 0.0

    def __enter__(self) -> TrainingProgress:
        if not self.enabled:
            return self
        try:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except ImportError:  # a bare GPU machine may lack rich
            return self
        self._progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tps]:>7} tok/s"),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("lr {task.fields[lr]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        self._progress.__enter__()
        self._task = self._progress.add_task(
            "train", total=self.total, completed=self.completed, tps="-", loss="-", lr="-"
        )
        return self

    def advance(self, tokens: int, loss: float, lr: float) -> None:
        """One optimizer step of ``tokens`` tokens is done."""
        self.completed += 1
        self._tokens += tokens
        if not self.enabled:
            return
        tps = self._tokens / max(1e-9, time.monotonic() - self._t0)
        if self._progress is not None:
            self._progress.update(
                self._task, completed=self.completed, tps=f"{tps:,.0f}", loss=f"{loss:.3f}", lr=f"{lr:.2e}"
            )
        elif time.monotonic() - self._last_plain > 30:
            self._last_plain = time.monotonic()
            print(f"step {self.completed}/{self.total} {tps:,.0f} tok/s loss {loss:.3f}", file=sys.stderr)

    def log(self, message: str) -> None:
        """Print a line above the bar (to stderr when there is no bar)."""
        if not self.logging:
            return
        if self._progress is not None:
            self._progress.console.print(message)
        else:
            print(message, file=sys.stderr, flush=True)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)
