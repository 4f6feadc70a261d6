"""Incremental fine-tuning on the user's documents, gated by held-out text and a general-English check.

Only paragraphs not seen by the active model are trained on (a changed document contributes its changed
paragraphs). One paragraph in ``holdout_every`` (chosen by its hash, so the choice never changes) is never
trained on: it measures whether the new version is better for this user. An L2 pull toward the base weights
(L2-SP) and early stopping keep general English from being forgotten; the new version becomes active only if
it is better on the held-out text and no more than ``max_general_worsening`` worse on a general sample.
Checkpoints make a run resumable after a cancel, a crash or a kill.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock, Timeout

from assistant.eval.metrics import text_bpc
from assistant.lm.io import LoadedModel, load_model, save_model
from assistant.lm.model import GRUConfig
from assistant.store.models import BASE, ModelRegistry, VersionInfo, user_lexicon
from assistant.store.privacy import LearnFilter
from assistant.text.lexicon import LEXICON_FILE
from assistant.text.paragraphs import paragraph_hash
from assistant.text.paragraphs import paragraphs as text_paragraphs
from assistant.text.words import count_words
from assistant.train.checkpoint import CheckpointError
from assistant.train.data import TokenData, split_long
from assistant.train.trainer import TrainConfig, TrainHooks, TrainResult, train_model

GENERAL_SAMPLE = "general_sample.txt"
"""General English shipped beside the base model, for the forgetting check."""
LOCK_FILE = ".finetune.lock"
"""In the model versions folder: held by the one fine-tune of that store that may run."""


class FinetuneError(RuntimeError):
    """Fine-tuning cannot run; the message says why and what to do."""


class FinetuneBusy(FinetuneError):
    """Another fine-tune of the same store is running (in this or another process)."""


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning settings (measured defaults: docs/benchmarks.md)."""

    lr: float = 5e-4
    batch_size: int = 8
    seq_len: int = 64
    epochs: float = 4.0
    """Passes over the new text at most (early stopping usually ends sooner)."""
    regulariser: str = "kl"
    """Against forgetting: ``l2`` (pull toward the base weights), ``kl`` (toward the base model's predictions on
    the user's text) or ``none``."""
    anchor_weight: float = 1e-4
    """Strength of the L2-SP pull (``regulariser="l2"``)."""
    kl_weight: float = 3.0
    """Weight of KL(base || tuned) per piece (``regulariser="kl"``)."""
    dropout: float = 0.1
    holdout_every: int = 10
    """One paragraph in this many is held out for gating."""
    evals_per_epoch: int = 4
    patience: int = 3
    """Held-out passes without improvement before stopping."""
    max_general_worsening: float = 0.02
    min_words: int = 200
    """Less new text than this is not worth a version."""
    threads: int = 1
    seed: int = 1234


@dataclass(frozen=True)
class Plan:
    """What a run will train on and measure with."""

    train: list[str]
    holdout: list[str]
    seen: dict[str, list[str]]
    """Document -> paragraph hashes the new version will have seen."""
    key: str
    """Identifies the run (start version + new paragraphs) for resuming."""


PARAGRAPH_CHARS = 2000
"""Longer paragraphs are cut (at lines, then sentences) into units of at most this many characters, so a
document without blank lines is many units and the held-out tenth is a tenth of it, not all or nothing."""


def paragraphs(text: str, max_chars: int = PARAGRAPH_CHARS) -> list[str]:
    """Blank-line separated paragraphs with text in them, long ones split into units of at most ``max_chars``."""
    blocks = text_paragraphs(text)
    return [unit for block in blocks for unit in split_long(block, max_chars) if unit.strip()]


def make_plan(documents: dict[str, str], seen: dict[str, list[str]], start: str, cfg: FinetuneConfig) -> Plan:
    """New paragraphs to train on, held-out paragraphs, and the resulting seen-state."""
    train: list[str] = []
    holdout: list[str] = []
    state: dict[str, list[str]] = {}
    for name in sorted(documents):
        old = set(seen.get(name, []))
        kept: list[str] = []
        for p in paragraphs(documents[name]):
            h = paragraph_hash(p)
            if int(h, 16) % cfg.holdout_every == 0:
                holdout.append(p)
                continue
            kept.append(h)
            if h not in old:
                train.append(p)
        state[name] = kept
    key = hashlib.sha256((start + "|" + "|".join(paragraph_hash(p) for p in train)).encode()).hexdigest()[:16]
    return Plan(train, holdout, state, key)


def _stream(lm: LoadedModel, texts: list[str]) -> tuple[torch.Tensor, int]:
    ids: list[int] = []
    chars = 0
    for t in texts:
        ids.extend(lm.tokenizer.encode(t + "\n\n"))
        chars += len(t) + 2
    return torch.tensor(ids, dtype=torch.long), chars


@dataclass
class FinetuneOutcome:
    """What a fine-tuning call did."""

    status: str
    """``accepted``, ``rejected``, ``nothing-new``, ``too-little`` or ``cancelled``."""
    message: str
    version: VersionInfo | None = None


def finetune(
    registry: ModelRegistry,
    documents: dict[str, str],
    work_dir: Path,
    cfg: FinetuneConfig | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] = lambda _: None,
    learn: LearnFilter | None = None,
) -> FinetuneOutcome:
    """Fine-tune the active model on what is new in ``documents``; add the result as a version.

    Only one fine-tune per model registry runs at a time: a second one raises :class:`FinetuneBusy` at once.
    ``learn``: what may be learned, decided by the user's space (default: every document, secrets removed)."""
    cfg = cfg or FinetuneConfig()
    documents = (learn or LearnFilter()).documents(documents)
    if cfg.regulariser not in ("l2", "kl", "none"):
        raise ValueError(f"regulariser must be l2, kl or none, not {cfg.regulariser!r}")
    lock = FileLock(str(registry.root / LOCK_FILE), timeout=0, mode=0o600)
    try:
        lock.acquire()
    except Timeout as exc:
        raise FinetuneBusy(
            "already learning: another fine-tune of these documents is running; wait for it to finish"
        ) from exc
    try:
        return _finetune(registry, documents, work_dir, cfg, on_step, should_stop, log)
    finally:
        lock.release()


def _finetune(
    registry: ModelRegistry,
    documents: dict[str, str],
    work_dir: Path,
    cfg: FinetuneConfig,
    on_step: Callable[[int, int, float], None] | None,
    should_stop: Callable[[], bool] | None,
    log: Callable[[str], None],
) -> FinetuneOutcome:
    """:func:`finetune` with the registry's fine-tune lock held: plan, measure, train, gate, publish."""
    torch.set_num_threads(cfg.threads)
    clean_staging(registry)
    run = plan_run(registry, documents, work_dir, cfg, log)
    if isinstance(run, FinetuneOutcome):
        return run
    before = measure_start(run)
    log(f"held-out text: {before.user:.4f} bits/char with {run.start}; general sample: {before.general:.4f}")
    started = time.time()
    result, steps = train_run(run, before, cfg, on_step, should_stop, log)
    if result.cancelled:
        return FinetuneOutcome("cancelled", f"cancelled at step {result.steps} of {steps}; run again to resume")
    tuned = result.model.eval()
    after = measure_tuned(run, tuned, before)
    status, reason = gate(before, after, cfg)
    metrics = {
        "holdout_bpc_before": round(before.user, 4),
        "holdout_bpc_after": round(after.user, 4),
        "general_bpc_base": round(before.base_general, 4),
        "general_bpc_before": round(before.general, 4),
        "general_bpc_after": round(after.general, 4),
        "new_words": run.new_words,
        "holdout_paragraphs": len(run.holdout),
        "steps": result.steps,
        "wall_seconds": round(time.time() - started, 1),
    }
    info = publish(run, tuned, status, reason, metrics)
    return FinetuneOutcome(status, f"{info.name} {status}: {reason}", info)


@dataclass(frozen=True)
class Run:
    """A planned run: where it starts, what it trains on and what judges it."""

    registry: ModelRegistry
    documents: dict[str, str]
    """The learnable documents (the new version's word list is made from them)."""
    start: str
    """The version (or ``base``) the run starts from."""
    lm: LoadedModel
    """The start version's model."""
    base: LoadedModel
    """The base model (the same object as ``lm`` when the run starts from it)."""
    seen: dict[str, list[str]]
    """What the start version had seen (document -> paragraph hashes)."""
    plan: Plan
    train: list[str]
    """The paragraphs trained on."""
    holdout: list[str]
    """The paragraphs that judge the result."""
    new_words: int
    general: str
    """The general-English sample of the forgetting check."""
    run_dir: Path
    """The run's checkpoints (it resumes from them)."""

    @property
    def holdout_text(self) -> str:
        return "\n\n".join(self.holdout)


@dataclass(frozen=True)
class Measures:
    """Bits per character of one model on the run's texts."""

    user: float
    """On the held-out paragraphs."""
    general: float
    """On the general sample."""
    base_general: float
    """The base model's on the general sample (what "materially worse" is measured against)."""


def plan_run(
    registry: ModelRegistry,
    documents: dict[str, str],
    work_dir: Path,
    cfg: FinetuneConfig,
    log: Callable[[str], None],
) -> Run | FinetuneOutcome:
    """Plan: the start version, the new paragraphs to train on and the held-out ones; or the outcome that says
    why there is nothing to do."""
    active = registry.active()
    if active.warning:
        log(active.warning)
    start = active.version
    parent_info = registry.info(start) if start != BASE else None
    seen = parent_info.documents if parent_info else {}
    plan = make_plan(documents, seen, start, cfg)
    run_dir = work_dir / f"run-{plan.key}"
    clean_runs(work_dir, keep=run_dir, log=log)
    new_words = sum(count_words(p) for p in plan.train)
    if not plan.train:
        return FinetuneOutcome("nothing-new", f"nothing new since {start}")
    if new_words < cfg.min_words:
        return FinetuneOutcome("too-little", f"{new_words} new words; at least {cfg.min_words} are needed")
    holdout = plan.holdout or plan.train[-1:]
    train_texts = plan.train if plan.holdout else plan.train[:-1]
    if not train_texts:
        return FinetuneOutcome("too-little", "the only new paragraph is needed as held-out text")
    general = read_general_sample(registry.base_dir)
    log(
        f"{len(train_texts)} new paragraph(s), {new_words:,} words, to learn from; {len(holdout)} held out to "
        f"judge the result; measuring them with {start}…"
    )
    lm = active.model
    base = lm if start == BASE else load_model(registry.base_dir)
    return Run(registry, documents, start, lm, base, seen, plan, train_texts, holdout, new_words, general, run_dir)


def measure_start(run: Run) -> Measures:
    """Measure: the start version (and the base model) on the held-out text and the general sample."""
    lm, base = run.lm, run.base
    user = text_bpc(lm.model, lm.tokenizer, run.holdout_text)
    general = text_bpc(lm.model, lm.tokenizer, run.general)
    base_general = general if base is lm else text_bpc(base.model, base.tokenizer, run.general)
    return Measures(user, general, base_general)


def measure_tuned(run: Run, tuned: torch.nn.Module, before: Measures) -> Measures:
    """Measure the trained network on the same texts."""
    tokenizer = run.lm.tokenizer
    return Measures(
        text_bpc(tuned, tokenizer, run.holdout_text), text_bpc(tuned, tokenizer, run.general), before.base_general
    )


def train_run(
    run: Run,
    before: Measures,
    cfg: FinetuneConfig,
    on_step: Callable[[int, int, float], None] | None,
    should_stop: Callable[[], bool] | None,
    log: Callable[[str], None],
) -> tuple[TrainResult, int]:
    """Train: from the start version on the new paragraphs (resuming the run's checkpoint), pulled toward the
    base model, keeping the best held-out state that is acceptable on general text; returns the result and the
    run's planned steps."""
    lm, base = run.lm, run.base
    train_ids, train_chars = _stream(lm, run.train)
    val_ids, val_chars = _stream(lm, run.holdout)
    batch = max(1, min(cfg.batch_size, train_ids.numel() // (cfg.seq_len + 1)))
    seq_len = min(cfg.seq_len, max(4, train_ids.numel() // batch - 1))
    chunks = max(1, (train_ids.numel() // batch - 1) // seq_len)
    steps = max(1, round(cfg.epochs * chunks))
    eval_every = max(1, chunks // cfg.evals_per_epoch)
    data = TokenData(train_ids, val_ids, val_chars, train_chars, {"user": {"paragraphs": len(run.train)}})
    model_cfg = replace(lm.model.config, dropout=cfg.dropout)
    tcfg = TrainConfig(
        batch_size=batch,
        seq_len=seq_len,
        lr=cfg.lr,
        warmup_steps=max(1, steps // 20),
        max_steps=steps,
        eval_every=eval_every,
        checkpoint_every=eval_every,
        seed=cfg.seed,
        device="cpu",
        threads=cfg.threads,
        min_lr_ratio=0.1,
    )
    limit = before.base_general * (1 + cfg.max_general_worsening)
    hooks = TrainHooks(
        init_weights={k: v.clone() for k, v in lm.model.state_dict().items()},
        anchor={k: v.clone() for k, v in base.model.state_dict().items()} if cfg.regulariser == "l2" else None,
        anchor_weight=cfg.anchor_weight,
        teacher=base.model if cfg.regulariser == "kl" else None,
        kl_weight=cfg.kl_weight,
        should_stop=should_stop,
        on_step=on_step,
        keep_best=True,
        acceptable=lambda m: text_bpc(m, lm.tokenizer, run.general) <= limit,
        patience=cfg.patience,
    )
    run_dir = run.run_dir
    try:
        try:
            result = train_model(model_cfg, tcfg, data, run_dir, progress=False, log=log, hooks=hooks)
        except CheckpointError as exc:
            log(f"discarding the saved state of the interrupted run ({exc}); starting the run over")
            shutil.rmtree(run_dir, ignore_errors=True)
            result = train_model(model_cfg, tcfg, data, run_dir, resume=False, progress=False, log=log, hooks=hooks)
    except OSError:
        shutil.rmtree(run_dir, ignore_errors=True)  # e.g. a full disk: leave no half run behind
        raise
    return result, steps


def gate(before: Measures, after: Measures, cfg: FinetuneConfig) -> tuple[str, str]:
    """Gate: ``accepted`` only if better on the held-out text and no more than ``max_general_worsening`` worse
    than the base model on general text; the status and the reason."""
    limit = before.base_general * (1 + cfg.max_general_worsening)
    if after.user >= before.user:
        return "rejected", f"no better on your held-out text ({after.user:.4f} >= {before.user:.4f} bits/char)"
    if after.general > limit:
        return "rejected", (
            f"general text got {after.general / before.base_general - 1:.1%} worse than the base model "
            f"(limit {cfg.max_general_worsening:.0%})"
        )
    return "accepted", "better on your held-out text, general text within the limit"


def publish(run: Run, tuned: torch.nn.Module, status: str, reason: str, metrics: dict[str, Any]) -> VersionInfo:
    """Publish: stage the new version (weights, word list, verdict) and move it into the registry, which makes it
    active if accepted; the run's checkpoints go."""
    registry, lm = run.registry, run.lm
    name = registry.new_version_name()
    staged = registry.root / f".staging-{name}"
    shutil.rmtree(staged, ignore_errors=True)
    try:
        save_model(
            staged,
            _without_dropout(tuned, lm.model.config),
            lm.tokenizer.path,
            training={"finetune": metrics, "parent": run.start},
        )
        user_lexicon(run.base.lexicon, run.documents.values()).save(staged / LEXICON_FILE)
        merged = {**run.seen, **run.plan.seen}
        info = VersionInfo(name=name, status=status, reason=reason, parent=run.start, metrics=metrics, documents=merged)
        registry.add(staged, info)
    except OSError:
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(run.run_dir, ignore_errors=True)
        raise
    shutil.rmtree(run.run_dir, ignore_errors=True)
    return info


def read_general_sample(base_dir: Path) -> str:
    """The general-English sample shipped beside the base model; :class:`FinetuneError` if it is unusable."""
    path = base_dir / GENERAL_SAMPLE
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise FinetuneError(f"the general sample {path} is missing; reinstall assistant to restore it") from exc
    except OSError as exc:
        raise FinetuneError(f"the general sample {path} cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise FinetuneError(f"the general sample {path} is not UTF-8 text; reinstall assistant to restore it") from exc
    if count_words(text) < 50 or "\x00" in text:
        raise FinetuneError(f"the general sample {path} holds no usable text; reinstall assistant to restore it")
    return text


def clean_staging(registry: ModelRegistry) -> None:
    """Remove half-made version folders of runs that died (the fine-tune lock is held, so none is in use)."""
    for folder in registry.root.glob(".staging-*"):
        shutil.rmtree(folder, ignore_errors=True)


def clean_runs(work_dir: Path, keep: Path, log: Callable[[str], None]) -> None:
    """Remove checkpoints of runs other than ``keep`` (their documents changed, or they failed)."""
    if not work_dir.is_dir():
        return
    for folder in work_dir.glob("run-*"):
        if folder != keep and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            log(f"removed the saved state of an earlier run that can no longer resume ({folder.name})")


def _without_dropout(model: torch.nn.Module, config: GRUConfig) -> torch.nn.Module:
    """Saved versions keep the parent's architecture record (dropout is a training-time setting)."""
    model.config = config  # type: ignore[attr-defined]
    return model
