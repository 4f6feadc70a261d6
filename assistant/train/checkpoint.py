"""Training checkpoints that resume exactly: model, optimizer, schedule step, data position, hidden state, RNG.

Tensors go to safetensors, everything else to JSON; nothing is pickled. A checkpoint is a folder
``step-NNNNNNNN/``; the ``latest`` file names the newest complete one and is replaced atomically after all its
files are written, so a run killed at any moment resumes from the last complete checkpoint.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

from assistant.atomic import atomic_write_bytes, atomic_write_text, private_dir

LATEST = "latest"


class CheckpointError(RuntimeError):
    """A checkpoint folder is incomplete, corrupt or from another run configuration."""


@dataclass
class RankState:
    """What differs between ranks: the carried hidden state and the random generators."""

    hidden: torch.Tensor | None
    cpu_rng: torch.Tensor
    cuda_rng: torch.Tensor | None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    """Other per-rank tensors (e.g. a KL teacher's hidden state)."""


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state dict into named tensors and JSON-able rest."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if not name.startswith("optim."):
            continue
        _, pid, key = name.split(".", 2)
        state.setdefault(int(pid), {})[key] = value
    for pid, values in rest.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": rest["param_groups"]})


def save_shared(
    folder: Path,
    model_state: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    info: dict[str, Any],
    extra: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write the rank-independent part (rank 0): weights, optimizer, progress (and ``extra`` named tensors)."""
    private_dir(folder)
    tensors = {f"model.{k}": v.detach().cpu().float().contiguous() for k, v in model_state.items()}
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in (extra or {}).items()})
    opt_tensors, opt_rest = optimizer_tensors(optimizer)
    tensors.update(opt_tensors)
    atomic_write_bytes(folder / "shared.safetensors", save(tensors))
    atomic_write_text(folder / "state.json", json.dumps({**info, "optimizer": opt_rest}, indent=1))


def save_rank(folder: Path, rank: int, state: RankState) -> None:
    """Write one rank's hidden state and generator states."""
    private_dir(folder)
    tensors = {"cpu_rng": state.cpu_rng}
    tensors.update({f"extra.{k}": v.detach().cpu().contiguous() for k, v in state.extra.items()})
    if state.hidden is not None:
        tensors["hidden"] = state.hidden.detach().cpu().float().contiguous()
    if state.cuda_rng is not None:
        tensors["cuda_rng"] = state.cuda_rng
    atomic_write_bytes(folder / f"rank{rank}.safetensors", save(tensors))


def publish(run_dir: Path, folder: Path, keep: int = 2) -> None:
    """Point ``latest`` at ``folder`` (atomically) and delete older checkpoints beyond ``keep``."""
    atomic_write_text(run_dir / LATEST, folder.name + "\n")
    old = sorted(p for p in run_dir.glob("step-*") if p.is_dir() and p.name != folder.name)
    for p in old[: max(0, len(old) - (keep - 1))]:
        shutil.rmtree(p, ignore_errors=True)


def latest(run_dir: Path) -> Path | None:
    """The newest complete checkpoint folder, or None when the run has none."""
    pointer = run_dir / LATEST
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{pointer} is unreadable: {exc}") from exc
    if not re.fullmatch(r"step-\d{8,}", name):
        raise CheckpointError(f"{pointer} is damaged (it names no checkpoint)")
    folder = run_dir / name
    if not (folder / "state.json").is_file():
        raise CheckpointError(f"{pointer} names {folder}, which is incomplete")
    return folder


def load_shared(
    folder: Path,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, Any], dict[str, torch.Tensor]]:
    """Model weights, optimizer tensors, the progress record and the extra tensors of a checkpoint."""
    try:
        tensors = load_file(str(folder / "shared.safetensors"))
        info = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except Exception as exc:  # safetensors and json raise several types
        raise CheckpointError(f"checkpoint {folder} is corrupt: {exc}") from exc
    model = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    optim = {k: v for k, v in tensors.items() if k.startswith("optim.")}
    extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
    return model, optim, info, extra


def load_rank(folder: Path, rank: int) -> RankState:
    """One rank's hidden state and generator states."""
    path = folder / f"rank{rank}.safetensors"
    try:
        t = load_file(str(path))
    except Exception as exc:
        raise CheckpointError(f"checkpoint file {path} is missing or corrupt: {exc}") from exc
    if "cpu_rng" not in t:
        raise CheckpointError(f"checkpoint file {path} has no generator state")
    extra = {k[len("extra.") :]: v for k, v in t.items() if k.startswith("extra.")}
    return RankState(hidden=t.get("hidden"), cpu_rng=t["cpu_rng"], cuda_rng=t.get("cuda_rng"), extra=extra)
