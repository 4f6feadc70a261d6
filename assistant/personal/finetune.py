"""One personal fine-tune: every document of a store, the result recorded in the store and the journal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.store.documents import DocumentStore
from assistant.store.journal import append_record
from assistant.store.models import ModelRegistry
from assistant.train.finetune import FinetuneBusy, FinetuneConfig, FinetuneError, FinetuneOutcome, finetune

__all__ = ["OK_STATUSES", "FinetuneBusy", "FinetuneConfig", "FinetuneError", "FinetuneOutcome", "run_finetune"]

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
) -> FinetuneOutcome:
    """Fine-tune on every document of the store, record what the new version has seen, and append the outcome
    to ``journal`` (a JSON-lines file) when given."""
    docs = {d.name: store.read(d.name) for d in store.list()}
    kwargs = {"log": log} if log is not None else {}
    outcome = finetune(registry, docs, work_dir, config, on_step=on_step, should_stop=should_stop, **kwargs)
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
