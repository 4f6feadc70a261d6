"""The training loop: TBPTT over contiguous chunks, AdamW, warm-up + cosine decay, clipping, checkpoints, DDP.

Runs on CPU or CUDA (bf16 autocast) and under ``torchrun`` with DistributedDataParallel (gloo on CPU, NCCL on
GPU); each rank reads its own shard of the stream. Imports neither textual nor platformdirs.
"""

from __future__ import annotations

import gc
import hashlib
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from safetensors.torch import save
from torch.nn.parallel import DistributedDataParallel

from assistant.atomic import private_dir
from assistant.lm.model import GRUConfig, GRULanguageModel
from assistant.lm.scoring import bits_per_char, kl_to_teacher, piece_nll, stream_nll
from assistant.train import checkpoint as ckpt
from assistant.train.data import TBPTTBatches, TokenData
from assistant.train.progress import TrainingProgress


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of one training run."""

    batch_size: int = 32
    """Parallel columns of the stream per rank."""
    seq_len: int = 64
    """Tokens per chunk: gradients flow back this far; the hidden state carries further."""
    lr: float = 3e-3
    """Peak learning rate."""
    min_lr_ratio: float = 0.1
    """Final learning rate as a share of the peak."""
    warmup_steps: int = 100
    """Linear warm-up steps."""
    max_steps: int = 1000
    """Optimizer steps in all (the cosine decay spans them)."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay on matrices."""
    clip_grad: float = 1.0
    """Gradient norm clipping threshold; 0 turns clipping off."""
    eval_every: int = 200
    """Steps between validation passes."""
    checkpoint_every: int = 200
    """Steps between checkpoints."""
    seed: int = 1234
    """Seed for initialisation and dropout."""
    device: str = "auto"
    """``cpu``, ``cuda`` or ``auto``."""
    bf16: bool = True
    """bf16 autocast on CUDA (ignored on CPU)."""
    threads: int = 0
    """torch CPU threads (0 = torch's default)."""
    time_limit: float = 0.0
    """Stop cleanly (and save) after this many seconds; 0 = no limit."""
    max_val_tokens: int = 0
    """Validate on at most this many tokens (0 = the whole validation stream)."""


@dataclass
class TrainHooks:
    """What fine-tuning adds to a training run (all optional)."""

    init_weights: dict[str, torch.Tensor] | None = None
    """Start from these weights instead of a fresh initialisation."""
    anchor: dict[str, torch.Tensor] | None = None
    """Weights to pull toward (L2-SP regulariser against forgetting)."""
    anchor_weight: float = 0.0
    """Strength of the pull: ``anchor_weight * sum((w - anchor)^2)`` is added to the loss."""
    teacher: GRULanguageModel | None = None
    """A frozen model whose predictions the trained one is pulled toward (KL regulariser against forgetting)."""
    kl_weight: float = 0.0
    """Weight of ``KL(teacher || model)`` per piece in the loss."""
    should_stop: Callable[[], bool] | None = None
    """Checked after every step; when true the run saves a checkpoint and returns (cancel)."""
    on_step: Callable[[int, int, float], None] | None = None
    """Called after every step with ``(step, max_steps, loss)`` (progress bars)."""
    keep_best: bool = False
    """Return the weights of the best validation pass instead of the last (early stopping)."""
    acceptable: Callable[[GRULanguageModel], bool] | None = None
    """With ``keep_best``: a validation pass counts as best only if this accepts the model (e.g. general text
    no more than 2% worse), so early stopping picks the best weights that pass the gate."""
    patience: int = 0
    """Stop after this many validation passes without improvement (0 = run the whole schedule)."""


@dataclass
class TrainResult:
    """What a run did, for the model card and the caller."""

    model: GRULanguageModel
    steps: int
    tokens: int
    wall_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    final_val_bpc: float | None = None
    ranks_agree: bool = True
    fingerprint: str = ""
    stopped_early: bool = False
    cancelled: bool = False
    best_val_bpc: float | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-able summary (no weights)."""
        return {
            "steps": self.steps,
            "tokens": self.tokens,
            "wall_seconds": round(self.wall_seconds, 1),
            "final_val_bpc": self.final_val_bpc,
            "ranks_agree": self.ranks_agree,
            "weights_sha256": self.fingerprint,
            "stopped_early": self.stopped_early,
            "history": self.history,
        }


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate for optimizer step ``step`` (0-based): linear warm-up, then cosine decay to the floor."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.max_steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * t))


def weights_fingerprint(model: torch.nn.Module) -> str:
    """SHA-256 of all weights in state-dict order (equal across ranks iff the weights are equal)."""
    state = {k: v.detach().cpu().float().contiguous() for k, v in model.state_dict().items()}
    return hashlib.sha256(save(state)).hexdigest()


def _resolve_device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", local_rank)
    return torch.device(name)


def _make_optimizer(model: GRULanguageModel, cfg: TrainConfig) -> torch.optim.AdamW:
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.99), eps=1e-8)


class DistributedContext:
    """Rank, world size and the process group when running under ``torchrun``."""

    def __init__(self, device_name: str) -> None:
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = _resolve_device(device_name, self.local_rank)
        self.enabled = self.world_size > 1
        self._owns_group = False
        if self.enabled and not dist.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            dist.init_process_group(backend=backend)
            self._owns_group = True

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0 (the one that writes shared files and prints)."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.enabled:
            dist.barrier()

    def any_true(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any rank (every rank gets the same answer)."""
        if not self.enabled:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def gather_strings(self, value: str) -> list[str]:
        """Every rank's ``value`` (same length hex strings)."""
        if not self.enabled:
            return [value]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return [str(v) for v in out]

    def close(self) -> None:
        """Tear down a process group this context created."""
        if self._owns_group and dist.is_initialized():
            # Free the DDP reducer (held in reference cycles) while the interpreter is whole: gloo work it
            # still holds would otherwise be destroyed during finalisation and abort the process.
            gc.collect()
            dist.destroy_process_group()


@dataclass
class RunState:
    """Everything a run's future depends on besides weights and optimizer: checkpointed whole, so a resumed run
    continues exactly where the interrupted one was (data position, carried hidden states, early stopping)."""

    step: int = 0
    tokens: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    hidden: torch.Tensor | None = None
    """The trained model's hidden state carried into the next chunk ``(L, B, H)``."""
    teacher_hidden: torch.Tensor | None = None
    """The KL teacher's hidden state, carried alongside."""
    elapsed_before: float = 0.0
    best_bpc: float = float("inf")
    best_state: dict[str, torch.Tensor] | None = None
    stale: int = 0
    """Validation passes since the last improvement."""
    stopped: bool = False
    """Early stopping (patience) ended the run: a resumed run must not train further."""


@dataclass
class _Run:
    """The parts of one training run that its steps share."""

    cfg: TrainConfig
    model_config: GRUConfig
    ctx: DistributedContext
    model: GRULanguageModel
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    batches: TBPTTBatches
    hooks: TrainHooks
    teacher: GRULanguageModel | None
    anchor: dict[str, torch.Tensor] | None
    run_dir: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def device(self) -> torch.device:
        return self.ctx.device

    def elapsed(self, state: RunState) -> float:
        return state.elapsed_before + time.monotonic() - self.started


def train_model(
    model_config: GRUConfig,
    cfg: TrainConfig,
    data: TokenData,
    run_dir: str | os.PathLike[str],
    *,
    resume: bool = True,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    stop_after: int | None = None,
    context: DistributedContext | None = None,
    hooks: TrainHooks | None = None,
) -> TrainResult:
    """Train (or resume training) a model on ``data``; checkpoints go to ``run_dir``.

    ``stop_after`` ends the run after that many total steps without finishing the schedule (as a crash or a
    time limit would), leaving a checkpoint to resume from. A checkpoint that cannot be used raises
    :class:`~assistant.train.checkpoint.CheckpointError`.
    """
    ctx = context or DistributedContext(cfg.device)
    say = log or print
    device = ctx.device
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run_path = private_dir(run_dir)

    hooks = hooks or TrainHooks()
    torch.manual_seed(cfg.seed)
    model = GRULanguageModel(model_config).to(device)
    if hooks.init_weights is not None:
        model.load_state_dict(hooks.init_weights)
    batches = TBPTTBatches(data.train, cfg.batch_size, cfg.seq_len, ctx.rank, ctx.world_size)
    batches.columns = batches.columns.to(device)
    val = data.val if not cfg.max_val_tokens else data.val[: cfg.max_val_tokens]
    val_chars = round(data.val_chars * val.numel() / max(1, data.val.numel()))
    run = _Run(
        cfg=cfg,
        model_config=model_config,
        ctx=ctx,
        model=model,
        net=model,
        optimizer=_make_optimizer(model, cfg),
        batches=batches,
        hooks=hooks,
        teacher=hooks.teacher.to(device).eval() if hooks.teacher is not None and hooks.kl_weight > 0 else None,
        anchor={k: v.to(device) for k, v in hooks.anchor.items()} if hooks.anchor is not None else None,
        run_dir=run_path,
    )
    torch.manual_seed(cfg.seed + 1 + ctx.rank)  # dropout differs per rank
    state = RunState()
    found = resume_run(run, state) if resume else None
    if found is not None and ctx.is_main:
        say(f"resumed from {found} at step {state.step}")
    if ctx.enabled:
        run.net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    end_step = cfg.max_steps if stop_after is None else min(cfg.max_steps, stop_after)
    run.started = time.monotonic()
    stopped_early = state.stopped
    cancelled = False
    tokens_per_step = cfg.batch_size * cfg.seq_len * ctx.world_size

    run.net.train()
    with TrainingProgress(
        total=cfg.max_steps, completed=state.step, enabled=progress and ctx.is_main, logging=ctx.is_main
    ) as bar:
        while state.step < end_step and not state.stopped:
            loss, lr = train_step(run, state)
            state.step += 1
            state.tokens += tokens_per_step
            bar.advance(tokens_per_step, loss, lr)
            if state.step % cfg.eval_every == 0 or state.step == cfg.max_steps:
                if ctx.is_main:
                    bpc = validate(model, val, val_chars)
                    record_validation(run, state, bpc, loss, lr)
                    bar.log(f"step {state.step}: train loss {loss:.3f}, val {bpc:.4f} bits/char")
                run.net.train()
            if hooks.on_step is not None:
                hooks.on_step(state.step, cfg.max_steps, loss)
            if hooks.patience and state.stale >= hooks.patience:
                stopped_early = state.stopped = True
                save_checkpoint(run, state)
                break
            if hooks.should_stop is not None and hooks.should_stop():
                cancelled = True
                save_checkpoint(run, state)
                break
            over_time = bool(cfg.time_limit) and run.elapsed(state) > cfg.time_limit
            if cfg.time_limit and ctx.any_true(over_time):
                stopped_early = True
                save_checkpoint(run, state)
                break
            if state.step % cfg.checkpoint_every == 0 or state.step == end_step:
                save_checkpoint(run, state)

    history = state.history
    final_bpc = history[-1]["val_bpc"] if history and history[-1]["step"] == state.step else None
    if final_bpc is None and ctx.is_main and state.step == cfg.max_steps:
        final_bpc = round(validate(model, val, val_chars), 4)
    if hooks.keep_best and state.best_state is not None and not cancelled:
        model.load_state_dict(state.best_state)
        final_bpc = round(state.best_bpc, 4)
    fingerprint = weights_fingerprint(model)
    prints = ctx.gather_strings(fingerprint)
    return TrainResult(
        model=model,
        steps=state.step,
        tokens=state.tokens,
        wall_seconds=run.elapsed(state),
        history=history,
        final_val_bpc=final_bpc,
        ranks_agree=len(set(prints)) == 1,
        fingerprint=fingerprint,
        stopped_early=stopped_early or state.step < cfg.max_steps,
        cancelled=cancelled,
        best_val_bpc=None if state.best_bpc == float("inf") else round(state.best_bpc, 4),
    )


def resume_run(run: _Run, state: RunState) -> Path | None:
    """Load the run's latest checkpoint into the model, optimizer and ``state``; the folder, or None if none."""
    found = ckpt.latest(run.run_dir)
    if found is None:
        return None
    weights, opt_tensors, info, extra = ckpt.load_shared(found)
    if info.get("model_config") != run.model_config.to_dict():
        raise ckpt.CheckpointError(f"checkpoint {found} was made for another model: {info.get('model_config')}")
    if info.get("world_size", 1) != run.ctx.world_size:
        raise ckpt.CheckpointError(
            f"checkpoint {found} was made with {info.get('world_size')} rank(s); resume with the same number"
        )
    device = run.device
    try:
        run.model.load_state_dict(weights)
        restore_optimizer_on(run.optimizer, opt_tensors, info["optimizer"], device)
        state.step, state.tokens = int(info["step"]), int(info["tokens"])
        state.history = list(info.get("history", []))
        state.elapsed_before = float(info.get("elapsed", 0.0))
        state.best_bpc = float(info.get("best_bpc", float("inf")))
        state.stale = int(info.get("stale", 0))
        state.stopped = bool(info.get("stopped", False))
        best = {k[len("best.") :]: v.to(device) for k, v in extra.items() if k.startswith("best.")}
        state.best_state = best or None
        rank_state = ckpt.load_rank(found, run.ctx.rank)
        state.hidden = rank_state.hidden.to(device) if rank_state.hidden is not None else None
        teacher_hidden = rank_state.extra.get("teacher_hidden")
        state.teacher_hidden = teacher_hidden.to(device) if teacher_hidden is not None else None
        torch.set_rng_state(rank_state.cpu_rng)
        if rank_state.cuda_rng is not None and device.type == "cuda":
            torch.cuda.set_rng_state(rank_state.cuda_rng, device)
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise ckpt.CheckpointError(f"checkpoint {found} does not fit this run: {exc}") from exc
    return found


def train_step(run: _Run, state: RunState) -> tuple[float, float]:
    """One optimizer step on the next chunk; returns the chunk's language-model loss and the learning rate."""
    cfg, hooks = run.cfg, run.hooks
    position = state.step % run.batches.num_chunks
    if position == 0:
        state.hidden = None  # a new pass over the stream starts from an empty context
        state.teacher_hidden = None
    x, y = run.batches.chunk(position)
    lr = lr_at(state.step, cfg)
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    autocast = run.device.type == "cuda" and cfg.bf16
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=autocast):
        logits, hidden = run.net(x, state.hidden)  # (B, T, V)
        loss = piece_nll(logits, y)
    objective = loss
    if run.teacher is not None:
        with torch.no_grad():
            t_logits, state.teacher_hidden = run.teacher(x, state.teacher_hidden)  # (B, T, V)
        objective = objective + hooks.kl_weight * kl_to_teacher(logits, t_logits)
    if run.anchor is not None and hooks.anchor_weight > 0:
        pull = sum(((p - run.anchor[n]) ** 2).sum() for n, p in run.model.named_parameters())
        objective = objective + hooks.anchor_weight * pull
    run.optimizer.zero_grad(set_to_none=True)
    objective.backward()
    if cfg.clip_grad > 0:
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), cfg.clip_grad)
    run.optimizer.step()
    state.hidden = hidden.detach()
    return float(loss.detach()), lr


def validate(model: GRULanguageModel, val: torch.Tensor, val_chars: int) -> float:
    """Bits per character of the validation stream."""
    nll, _ = stream_nll(model, val, batch_size=16, seq_len=256)
    return bits_per_char(nll, val_chars)


def record_validation(run: _Run, state: RunState, bpc: float, loss: float, lr: float) -> None:
    """Log a validation pass and update early stopping (and the best weights, with ``keep_best``)."""
    state.history.append(
        {
            "step": state.step,
            "tokens": state.tokens,
            "train_loss": round(loss, 4),
            "val_bpc": round(bpc, 4),
            "lr": lr,
            "elapsed": round(run.elapsed(state), 1),
        }
    )
    ok = run.hooks.acceptable is None or run.hooks.acceptable(run.model)
    if bpc < state.best_bpc and ok:
        state.best_bpc, state.stale = bpc, 0
        if run.hooks.keep_best:
            state.best_state = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
    else:
        state.stale += 1


def save_checkpoint(run: _Run, state: RunState) -> None:
    """Write a complete checkpoint of the run at ``state.step`` and publish it as the latest."""
    ctx, device = run.ctx, run.device
    folder = run.run_dir / f"step-{state.step:08d}"
    ckpt.save_rank(
        folder,
        ctx.rank,
        ckpt.RankState(
            hidden=state.hidden,
            cpu_rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            extra={"teacher_hidden": state.teacher_hidden} if state.teacher_hidden is not None else {},
        ),
    )
    ctx.barrier()
    if ctx.is_main:
        chunks = run.batches.num_chunks
        info = {
            "step": state.step,
            "tokens": state.tokens,
            "chunk": state.step % chunks,
            "epoch": state.step // chunks,
            "elapsed": run.elapsed(state),
            "history": state.history,
            "world_size": ctx.world_size,
            "model_config": run.model_config.to_dict(),
            "train_config": asdict(run.cfg),
            "best_bpc": state.best_bpc,
            "stale": state.stale,
            "stopped": state.stopped,
        }
        best = state.best_state
        extra = {f"best.{k}": v for k, v in best.items()} if best is not None else None
        ckpt.save_shared(folder, run.model.state_dict(), run.optimizer, info, extra)
        ckpt.publish(run.run_dir, folder)
    ctx.barrier()


def restore_optimizer_on(
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, torch.Tensor],
    rest: dict[str, Any],
    device: torch.device,
) -> None:
    """Restore optimizer state and move its tensors (except step counters) to ``device``."""
    moved = {k: (v if k.endswith(".step") else v.to(device)) for k, v in tensors.items()}
    ckpt.restore_optimizer(optimizer, moved, rest)


def hardware_summary(device: torch.device, world_size: int) -> str:
    """Human description of where a run trained."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"{world_size} x {name}"
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads) x {world_size}"
