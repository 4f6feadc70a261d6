"""The project's personal fine-tune, run by a benchmark on some files in a temporary user directory."""

from __future__ import annotations

import os
import time
from pathlib import Path


def finetuned(files: list[Path], epochs: float | None, home: Path) -> tuple[Path, dict[str, object]]:
    """Import ``files`` as the user's documents under ``home`` and fine-tune the base model on them
    (``assistant.train.finetune``, one thread); the active version's folder and the run's facts."""
    os.environ["ASSISTANT_HOME"] = str(home)
    from assistant.personal.space import UserSpace
    from assistant.train.finetune import FinetuneConfig, finetune

    space = UserSpace.default()
    store = space.store
    store.import_paths(files, max_bytes=10_000_000)
    registry = space.registry
    docs = {d.name: store.read(d.name) for d in store.list()}
    config = FinetuneConfig(threads=1, **({"epochs": epochs} if epochs else {}))
    t0 = time.time()
    work = home / "finetune-work"
    work.mkdir()
    outcome = finetune(registry, docs, work, config, log=lambda m: None)
    facts = {"outcome": outcome.message, "wall_s": round(time.time() - t0, 1), "epochs": config.epochs}
    print(f"fine-tune on {len(files)} files: {facts}", flush=True)
    return registry.folder(registry.active_name()), facts
